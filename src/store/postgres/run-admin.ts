// What PostgreSQL does for requests about runs from outside their worker: cancelling,
// resuming, retention, cursors of triggers and schedules, and rate-limit reservations. Each
// runs on a client inside the caller's transaction.
import type pg from "pg";
import type { NewEntry } from "../../core/journal.js";
import { TERMINAL_STATUSES, type Cancellation } from "../../core/types.js";
import type {
  CancelResult,
  CreateResult,
  EventRecord,
  RateRequest,
  ResumeResult,
  RunCreate,
  StoreWake,
} from "../store.js";
import { query } from "./connection.js";
import { insertRows, lastSeq } from "./journal-io.js";
import { RUN_COLUMNS, toRunRecord as toRecord, type RunRow } from "../sql-rows.js";
import { DELETED_EVENTS_CURSOR, toEvent, type EventRow } from "../sql-rows.js";
import { lastEventPos, type PostgresWaits } from "./waits.js";

/** Statuses a run ends with, as SQL. */
const ENDED = "('completed', 'failed', 'cancelled', 'timed_out')";

/** Tells listening workers, when the transaction commits, that runs may be runnable. */
export async function notify(c: pg.ClientBase, channel: string, wake: StoreWake): Promise<void> {
  await query(c, "SELECT pg_notify($1, $2)", [channel, JSON.stringify(wake)]);
}

/** Locks a run's row for an update of its status or epoch. */
export async function lockRun(c: pg.ClientBase, S: string, runId: string): Promise<RunRow | null> {
  const [row] = await query<RunRow>(
    c,
    `SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE id = $1 FOR UPDATE`,
    [runId],
  );
  return row ?? null;
}

/**
 * Cancels a run: a paused run ends at once (its epoch raised, its waits cancelled); a live
 * one gets the request, carried out by whoever runs it (a waiting one becomes runnable).
 */
export async function cancelRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  waits: PostgresWaits,
  runId: string,
  request: { cancellation: Cancellation; entry: NewEntry; error: string },
  now: number,
): Promise<CancelResult> {
  const row = await lockRun(c, S, runId);
  if (row === null) return { kind: "not_found" };
  if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
  if (row.status === "paused") {
    // A paused run cannot replay to run its cleanup: it ends here.
    const [updated] = await query<RunRow>(
      c,
      `UPDATE ${S}.runs SET status = 'cancelled', error = $2, updated_at = $3,
         ended_at = $3, epoch = epoch + 1, owner = NULL, lease_expires_at = NULL,
         wake_at = NULL, cancel_requested = NULL
       WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
      [runId, request.error, now],
    );
    await insertRows(c, S, runId, await lastSeq(c, S, runId), [request.entry]);
    await waits.cancelAll(c, runId, now);
    if (row.parent_id !== null) await waits.childEnded(c, runId, now);
    return { kind: "cancelled", run: toRecord(updated as RunRow) };
  }
  const [updated] = await query<RunRow>(
    c,
    `UPDATE ${S}.runs SET cancel_requested = coalesce(cancel_requested, $2), updated_at = $3,
       status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
       wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
     WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    [runId, JSON.stringify(request.cancellation), now],
  );
  await notify(c, channel, { workflows: [row.workflow], wakeAt: null });
  return { kind: "requested", run: toRecord(updated as RunRow) };
}

/** Makes a paused run pending again, journaling `entry`. */
export function resumeRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  runId: string,
  entry: NewEntry,
  now: number,
  version?: string | null,
): Promise<ResumeResult> {
  return reopenRun(c, S, channel, "paused", "paused_reason = NULL", runId, entry, now, version);
}

/** Makes a failed run pending again (its error and end cleared), journaling `entry`. */
export function retryRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  runId: string,
  entry: NewEntry,
  now: number,
): Promise<ResumeResult> {
  return reopenRun(c, S, channel, "failed", "error = NULL, ended_at = NULL", runId, entry, now);
}

/**
 * Re-opens an ended run from `fromPosition`: pending, its end cleared, its epoch raised, its
 * waits and decisions from that position removed, `entry` journaled.
 */
export async function rewindRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  runId: string,
  request: { readonly entry: NewEntry; readonly fromPosition: number },
  now: number,
): Promise<ResumeResult> {
  const row = await lockRun(c, S, runId);
  if (row === null) return { kind: "not_found" };
  if (!TERMINAL_STATUSES.has(row.status)) return { kind: "not_paused", run: toRecord(row) };
  const [updated] = await query<RunRow>(
    c,
    `UPDATE ${S}.runs SET status = 'pending', output = NULL, error = NULL, ended_at = NULL,
       paused_reason = NULL, cancel_requested = NULL, wake_at = NULL, owner = NULL,
       lease_expires_at = NULL, epoch = epoch + 1, recoveries = 0, updated_at = $2
     WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    [runId, now],
  );
  await query(c, `DELETE FROM ${S}.waits WHERE run_id = $1 AND position >= $2`, [
    runId,
    request.fromPosition,
  ]);
  await query(c, `DELETE FROM ${S}.decisions WHERE run_id = $1 AND position >= $2`, [
    runId,
    request.fromPosition,
  ]);
  await insertRows(c, S, runId, await lastSeq(c, S, runId), [request.entry]);
  await notify(c, channel, { workflows: [row.workflow], wakeAt: null });
  return { kind: "resumed", run: toRecord(updated as RunRow) };
}

/** Creates a pending run whose journal is `create.started` then `entries`; nothing when the
 * id is taken. */
export async function forkRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  create: RunCreate,
  entries: readonly NewEntry[],
  now: number,
): Promise<CreateResult> {
  const [created] = await query<RunRow>(
    c,
    `INSERT INTO ${S}.runs (id, workflow, version, status, input, priority, concurrency_key,
       created_at, updated_at, owner, epoch, lease_expires_at, deadline_at, event_cursor)
     VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7, NULL, 0, NULL, $8,
       (SELECT coalesce(max(pos), 0) FROM ${S}.events))
     ON CONFLICT (id) DO NOTHING RETURNING ${RUN_COLUMNS}`,
    [
      create.id,
      create.workflow,
      create.version,
      create.input,
      create.priority,
      create.concurrencyKey,
      now,
      create.deadlineAt,
    ],
  );
  if (created === undefined) {
    const existing = await lockRun(c, S, create.id);
    if (existing === null) throw new Error(`run ${create.id} exists and cannot be read`);
    return { created: false, run: toRecord(existing) };
  }
  await insertRows(c, S, create.id, 0, [create.started, ...entries]);
  await notify(c, channel, { workflows: [create.workflow], wakeAt: null });
  return { created: true, run: toRecord(created) };
}

async function reopenRun(
  c: pg.ClientBase,
  S: string,
  channel: string,
  from: RunRow["status"],
  clear: string,
  runId: string,
  entry: NewEntry,
  now: number,
  version?: string | null,
): Promise<ResumeResult> {
  const row = await lockRun(c, S, runId);
  if (row === null) return { kind: "not_found" };
  if (row.status !== from) return { kind: "not_paused", run: toRecord(row) };
  const pin = version === undefined ? "" : ", version = $3";
  const [updated] = await query<RunRow>(
    c,
    `UPDATE ${S}.runs SET status = 'pending', ${clear}, recoveries = 0${pin},
       updated_at = $2 WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    version === undefined ? [runId, now] : [runId, now, version],
  );
  await insertRows(c, S, runId, await lastSeq(c, S, runId), [entry]);
  await notify(c, channel, { workflows: [row.workflow], wakeAt: null });
  return { kind: "resumed", run: toRecord(updated as RunRow) };
}

/** Deletes up to `limit` runs that ended before `endedBefore`, with all they hold. */
export async function deleteFinishedRuns(
  c: pg.ClientBase,
  S: string,
  endedBefore: number,
  limit: number,
): Promise<string[]> {
  const rows = await query<{ id: string }>(
    c,
    `DELETE FROM ${S}.runs WHERE id IN (
       SELECT id FROM ${S}.runs WHERE status IN ${ENDED} AND ended_at < $1
       ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [endedBefore, limit],
  );
  const ids = rows.map((r) => r.id);
  for (const table of [
    "journal",
    "waits",
    "signals",
    "decisions",
    "consumed_events",
    "stream",
    "run_keys",
  ]) {
    await query(c, `DELETE FROM ${S}.${table} WHERE run_id = ANY($1::text[])`, [ids]);
  }
  return ids;
}

/**
 * Deletes up to `limit` events received before `receivedBefore` that no run still going can
 * consume (each consumes only events after its cursor) and every trigger has passed. Off the
 * hot path; it locks nothing beyond the rows it deletes (new events are numbered by the
 * sequence, past every deleted one).
 */
export async function deleteEvents(
  c: pg.ClientBase,
  S: string,
  receivedBefore: number,
  limit: number,
): Promise<number> {
  const rows = await query<{ pos: number }>(
    c,
    `WITH floor AS (
       SELECT min(f) AS f FROM (
         SELECT min(event_cursor) AS f FROM ${S}.runs WHERE status NOT IN ${ENDED}
         UNION ALL SELECT min(value) FROM ${S}.cursors WHERE name LIKE 'trigger:%') m),
     deleted AS (
       DELETE FROM ${S}.events WHERE pos IN (
         SELECT pos FROM ${S}.events, floor
         WHERE received_at < $1 AND (floor.f IS NULL OR pos <= floor.f)
         ORDER BY pos LIMIT $2)
       RETURNING pos),
     -- Remember the highest deleted position: new events are numbered past it.
     remembered AS (
       INSERT INTO ${S}.cursors AS k (name, value)
       SELECT $3, max(pos) FROM deleted HAVING count(*) > 0
       ON CONFLICT (name) DO UPDATE SET value = greatest(k.value, excluded.value))
     SELECT pos FROM deleted`,
    [receivedBefore, limit, DELETED_EVENTS_CURSOR],
  );
  return rows.length;
}

export async function readCursor(c: pg.ClientBase, S: string, name: string) {
  const [row] = await query<{ value: number }>(
    c,
    `SELECT value FROM ${S}.cursors WHERE name = $1`,
    [name],
  );
  return row === undefined ? null : Number(row.value);
}

/** Moves a cursor forward, never back. */
export async function moveCursor(c: pg.ClientBase, S: string, name: string, value: number) {
  await query(
    c,
    `INSERT INTO ${S}.cursors AS k (name, value) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET value = greatest(k.value, excluded.value)`,
    [name, value],
  );
}

/** Events of `name` after `afterPos`, in order; the caller holds the name's lock exclusively. */
export async function readEventsAfter(
  c: pg.ClientBase,
  S: string,
  name: string,
  afterPos: number,
  limit: number,
): Promise<EventRecord[]> {
  const rows = await query<EventRow>(
    c,
    `SELECT pos, id, name, data, received_at FROM ${S}.events
     WHERE name = $1 AND pos > $2 ORDER BY pos LIMIT $3`,
    [name, afterPos, limit],
  );
  return rows.map(toEvent);
}

export async function readLastEventPos(c: pg.ClientBase, S: string): Promise<number> {
  const [row] = await query<{ p: number }>(c, `SELECT ${lastEventPos(S)} AS p`);
  return Number(row?.p ?? 0);
}

/**
 * Reserves rate-limit units from a token bucket on the database's clock (GCRA): a unit costs
 * periodMs / limit of debt and the bucket holds at most periodMs of it; a reservation that
 * does not fit waits its turn. Returns how long to wait, in ms.
 */
export async function reserveRate(c: pg.ClientBase, S: string, r: RateRequest): Promise<number> {
  const [row] = await query<{ wait_ms: number }>(
    c,
    `WITH t AS (SELECT extract(epoch FROM statement_timestamp()) * 1000 AS now_ms)
     INSERT INTO ${S}.rate_limits AS r (key, tat_ms, granted_at_ms)
     SELECT $1, now_ms + $2::float8, now_ms FROM t
     ON CONFLICT (key) DO UPDATE SET
       granted_at_ms = greatest((SELECT now_ms FROM t), r.tat_ms + $2::float8 - $3::float8),
       tat_ms = greatest(r.tat_ms, (SELECT now_ms FROM t)) + $2::float8
     RETURNING (granted_at_ms - (SELECT now_ms FROM t))::float8 AS wait_ms`,
    [r.key, (r.units * r.periodMs) / r.limit, r.periodMs],
  );
  return Math.max(0, Math.ceil(row?.wait_ms ?? 0));
}
