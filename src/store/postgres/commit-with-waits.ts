// A group commit on PostgreSQL that creates waits or puts runs to sleep: more than the one
// statement, in one transaction, because both must see what other sessions committed while
// this one waited for its locks.
import type pg from "pg";
import { TERMINAL_STATUSES } from "../../core/types.js";
import type { CommitBatch, RunCreate, RunWrite, StoreWake, WaitRef } from "../store.js";
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
  channel: string,
): Promise<{ rows: CommitRow[]; woken: Map<string, WaitRef[]> }> {
  await c.query(BEGIN_BOUNDED);
  try {
    // Whoever ends a run's wait locks the run's row first (see waits.ts): a child's end locks
    // its parent before the statement fences the child.
    const parents = [...new Set(batch.writes.filter(endsChild).map((w) => w.parentId as string))];
    if (parents.length > 0) await waits.lockRuns(c, parents.sort());
    const registered = await lockEventWaits(
      c,
      S,
      schema,
      shapes,
      batch.writes.flatMap((w) => w.waits ?? []),
    );
    const rows = await query<CommitRow>(c, statement.text, statement.values, statement.name);
    const landed = new Set((rows[0]?.written ?? []).map(([id]) => id));
    const created: string[] = [];
    for (const w of batch.writes) {
      if (!landed.has(w.runId)) continue;
      for (const child of w.children ?? []) {
        if (await createChild(c, S, child, batch.now)) created.push(child.workflow);
      }
      if ((w.waits?.length ?? 0) > 0) await waits.create(c, w.runId, w.waits ?? [], batch.now);
    }
    const woken = new Map<string, WaitRef[]>();
    const owners = new Set<string>();
    const workflows = new Set<string>(created);
    for (const w of batch.writes) {
      if (!landed.has(w.runId) || !endsChild(w)) continue;
      const ended = await waits.childEnded(c, w.runId, batch.now);
      if (ended.refs.length === 0) continue;
      woken.set(w.runId, ended.refs);
      if (ended.owner !== null) owners.add(ended.owner);
      else if (ended.workflow !== null) workflows.add(ended.workflow);
    }
    if (owners.size > 0 || workflows.size > 0) {
      const wake: StoreWake = { workflows: [...workflows], wakeAt: null, owners: [...owners] };
      await query(c, "SELECT pg_notify($1, $2)", [channel, JSON.stringify(wake)]);
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
    return { rows, woken };
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** Whether a write ends a child run (its parent's wait ends with it). */
export function endsChild(w: RunWrite): boolean {
  return w.parentId !== undefined && w.update !== null && TERMINAL_STATUSES.has(w.update.status);
}

/** Creates a child run, pending, with its first entry, unless a run has its id. */
async function createChild(
  c: pg.ClientBase,
  S: string,
  r: RunCreate,
  now: number,
): Promise<boolean> {
  const inserted = await query<{ id: string }>(
    c,
    `INSERT INTO ${S}.runs (id, workflow, version, status, input, priority, concurrency_key,
       created_at, updated_at, epoch, deadline_at, event_cursor, parent_id, detached)
     VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7, 0, $8,
       (SELECT coalesce(max(pos), 0) FROM ${S}.events), $9, $10)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      r.id,
      r.workflow,
      r.version,
      r.input,
      r.priority,
      r.concurrencyKey,
      now,
      r.deadlineAt,
      r.parent?.runId ?? null,
      r.parent?.detached ?? false,
    ],
  );
  if (inserted.length === 0) return false;
  await query(
    c,
    `INSERT INTO ${S}.journal (run_id, seq, type, at, data) VALUES ($1, 1, 'run_started', $2, $3)`,
    [r.id, r.started.at, r.started.data],
  );
  return true;
}
