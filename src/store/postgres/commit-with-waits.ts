// A group commit on PostgreSQL that creates waits or puts runs to sleep: more than the one
// statement, in one transaction, because both must see what other sessions committed while
// this one waited for its locks.
import type pg from "pg";
import type { CommitBatch } from "../store.js";
import type { CommitRow, CommitStatement } from "./commit.js";
import { query } from "./connection.js";
import { lockEventWaits, type ShapeCache } from "./events.js";
import type { PostgresWaits } from "./waits.js";
import { BEGIN_BOUNDED } from "./settings.js";

/**
 * The keys of new event waits are locked first (an event of the same key sent meanwhile is
 * then seen by the wait, or sees it; see events.ts); the batch statement locks the runs; waits are created, ending at
 * once those an earlier event or signal meets; then a run going to sleep whose wait ended
 * (by this batch, or by an event that committed while we waited for the run's lock) is left
 * runnable.
 */
export async function commitWithWaits(
  c: pg.ClientBase,
  S: string,
  schema: string,
  waits: PostgresWaits,
  shapes: ShapeCache,
  batch: CommitBatch,
  statement: CommitStatement,
): Promise<CommitRow[]> {
  await c.query(BEGIN_BOUNDED);
  try {
    const registered = await lockEventWaits(
      c,
      S,
      schema,
      shapes,
      batch.writes.flatMap((w) => w.waits ?? []),
    );
    const rows = await query<CommitRow>(c, statement.text, statement.values, statement.name);
    const landed = new Set((rows[0]?.written ?? []).map(([id]) => id));
    for (const w of batch.writes) {
      if (landed.has(w.runId) && (w.waits?.length ?? 0) > 0)
        await waits.create(c, w.runId, w.waits ?? [], batch.now);
    }
    const sleeping = batch.writes
      .filter((w) => landed.has(w.runId) && w.update?.status === "waiting")
      .map((w) => w.runId);
    if (sleeping.length > 0) {
      await query(
        c,
        `UPDATE ${S}.runs r SET status = 'pending', wake_at = NULL
         WHERE r.id = ANY($1::text[]) AND r.status = 'waiting' AND (
           r.cancel_requested IS NOT NULL OR EXISTS (
             SELECT 1 FROM ${S}.waits wt
             WHERE wt.run_id = r.id AND wt.status NOT IN ('open', 'cancelled')
               AND NOT EXISTS (SELECT 1 FROM ${S}.journal j WHERE j.run_id = wt.run_id
                                 AND j.position = wt.position AND j.type = 'wait_completed')))`,
        [sleeping],
      );
    }
    await c.query("COMMIT");
    for (const r of registered) shapes.add(r.name, [r.paths]);
    return rows;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
