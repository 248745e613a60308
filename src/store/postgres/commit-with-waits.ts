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
    const children = batch.writes.flatMap((w) => (landed.has(w.runId) ? (w.children ?? []) : []));
    const created = children.length === 0 ? [] : await createChildren(c, S, children, batch.now);
    for (const w of batch.writes) {
      if (!landed.has(w.runId)) continue;
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

/**
 * Creates the children of the batch's landed writes (`ctx.invoke`, `ctx.startChild`, `ctx.map`
 * with `child: true`) in one statement, each with its `run_started` entry: a parent fanning out
 * to 1,000 children is one round trip, not 2,000. A child that exists already (a replayed
 * start) is left as it is. Returns the workflows of the children created.
 */
async function createChildren(
  c: pg.ClientBase,
  S: string,
  children: readonly RunCreate[],
  now: number,
): Promise<string[]> {
  const rows = await query<{ workflow: string }>(
    c,
    `WITH input AS (
       SELECT DISTINCT ON (id) * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
         $5::integer[], $6::text[], $7::bigint[], $8::text[], $9::boolean[], $10::bigint[],
         $11::text[]) WITH ORDINALITY
         AS i(id, workflow, version, input, priority, concurrency_key, deadline_at, parent_id,
              detached, started_at, started_data, n)
       ORDER BY id, n
     ), cursor AS (SELECT coalesce(max(pos), 0) AS pos FROM ${S}.events),
     inserted AS (
       INSERT INTO ${S}.runs (id, workflow, version, status, input, priority, concurrency_key,
         created_at, updated_at, epoch, deadline_at, event_cursor, parent_id, detached)
       SELECT i.id, i.workflow, i.version, 'pending', i.input, i.priority, i.concurrency_key,
         $12, $12, 0, i.deadline_at, (SELECT pos FROM cursor), i.parent_id, i.detached
       FROM input i ORDER BY i.n
       ON CONFLICT (id) DO NOTHING RETURNING id, workflow
     ),
     started AS (
       INSERT INTO ${S}.journal (run_id, seq, type, at, data)
       SELECT i.id, 1, 'run_started', i.started_at, i.started_data
       FROM input i JOIN inserted USING (id)
     )
     SELECT workflow FROM inserted`,
    [
      children.map((r) => r.id),
      children.map((r) => r.workflow),
      children.map((r) => r.version),
      children.map((r) => r.input),
      children.map((r) => r.priority),
      children.map((r) => r.concurrencyKey),
      children.map((r) => r.deadlineAt),
      children.map((r) => r.parent?.runId ?? null),
      children.map((r) => r.parent?.detached ?? false),
      children.map((r) => r.started.at),
      children.map((r) => r.started.data),
      now,
    ],
  );
  return rows.map((r) => r.workflow);
}
