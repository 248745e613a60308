// A group commit on PostgreSQL as one statement, so one round trip and one WAL flush serve
// every run in the batch: run creations, fenced journal appends and status changes travel as
// arrays (unnest) through data-modifying CTEs, which PostgreSQL applies atomically.
import type { CommitBatch, RunWrite, StoreWake } from "../store.js";
import { quoteIdent } from "./schema.js";
import { RUN_COLUMNS, toRows, type RunRow } from "./rows.js";

/** Statuses a run ends with. */
const ENDED = "('completed', 'failed', 'cancelled', 'timed_out')";

/** Most workflow names a wake-up notification lists; past that it says "any". The payload
 * of a NOTIFY must stay under 8,000 bytes. */
const WAKE_WORKFLOWS_MAX = 32;

/**
 * The commit statement for `schema`. Fencing: `fence` locks the written runs' rows FOR SHARE,
 * so a claim or cancel that would raise their epoch waits for this commit (or, if it came
 * first, this commit sees the new epoch and writes nothing for that run). Sequence numbers
 * continue from the caller's cache (`base`) or, when unknown, from the journal.
 */
export function commitSql(schema: string): string {
  const S = quoteIdent(schema);
  return `
WITH c AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                       $7::text[], $8::float8[], $9::bigint[], $10::text[], $32::bigint[])
    AS c(id, workflow, version, input, priority, ckey, owner, lease_ms, at, data, deadline)
), created AS (
  INSERT INTO ${S}.runs AS r (id, workflow, version, status, input, priority, concurrency_key,
                              created_at, updated_at, owner, epoch, lease_expires_at, deadline_at,
                              event_cursor)
  SELECT id, workflow, version, CASE WHEN owner IS NULL THEN 'pending' ELSE 'running' END, input,
         priority, ckey, $29, $29, owner, CASE WHEN owner IS NULL THEN 0 ELSE 1 END,
         CASE WHEN owner IS NULL THEN NULL
              ELSE clock_timestamp() + lease_ms * interval '1 millisecond' END,
         deadline, (SELECT coalesce(max(pos), 0) FROM ${S}.events)
  FROM c
  ON CONFLICT (id) DO NOTHING
  RETURNING ${RUN_COLUMNS}
), started AS (
  INSERT INTO ${S}.journal (run_id, seq, type, at, data)
  SELECT c.id, 1, 'run_started', c.at, c.data FROM c JOIN created ON created.id = c.id
), existing AS (
  SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE id = ANY($1::text[])
), w AS (
  SELECT * FROM unnest($11::text[], $12::bigint[], $13::int[]) AS w(id, epoch, base)
), fence AS (
  SELECT r.id, r.epoch FROM ${S}.runs r
  WHERE r.id = ANY($11::text[]) AND r.status = 'running'
  ORDER BY r.id
  FOR SHARE
), ok AS (
  SELECT w.id, coalesce(w.base, (SELECT max(j.seq) FROM ${S}.journal j WHERE j.run_id = w.id), 0)
           AS base
  FROM w JOIN fence f ON f.id = w.id AND f.epoch = w.epoch
), e AS (
  SELECT * FROM unnest($14::text[], $15::int[], $16::text[], $17::bigint[], $18::int[],
                       $19::text[], $20::text[], $21::bigint[], $22::text[])
    AS e(run, off, type, at, pos, key, data, sat, sdata)
), appended AS (
  INSERT INTO ${S}.journal (run_id, seq, type, at, position, key, data, started_at, started_data)
  SELECT e.run, ok.base + e.off, e.type, e.at, e.pos, e.key, e.data, e.sat, e.sdata
  FROM e JOIN ok ON ok.id = e.run
), u AS (
  -- A run going to sleep while one of its waits already ended (and this batch does not
  -- journal it) must not sleep through it.
  SELECT u.*, u.status = 'waiting' AND EXISTS (
      SELECT 1 FROM ${S}.waits wt
      WHERE wt.run_id = u.id AND wt.status NOT IN ('open', 'cancelled')
        AND NOT EXISTS (SELECT 1 FROM ${S}.journal j WHERE j.run_id = wt.run_id
                          AND j.position = wt.position AND j.type = 'wait_completed')
        AND NOT EXISTS (SELECT 1 FROM e WHERE e.run = wt.run_id AND e.pos = wt.position
                          AND e.type = 'wait_completed')
    ) AS undelivered
  FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::bigint[])
    AS u(id, status, output, error, reason, wake)
), updated AS (
  UPDATE ${S}.runs r SET
    status = CASE WHEN u.status = 'waiting' AND (u.undelivered OR r.cancel_requested IS NOT NULL)
                  THEN 'pending' ELSE u.status END,
    wake_at = CASE WHEN u.undelivered OR r.cancel_requested IS NOT NULL THEN NULL ELSE u.wake END,
    output = u.output, error = u.error, paused_reason = u.reason, updated_at = $29,
    ended_at = CASE WHEN u.status IN ${ENDED} THEN $29 END,
    cancel_requested = CASE WHEN u.status IN ${ENDED} THEN NULL ELSE r.cancel_requested END,
    owner = NULL, lease_expires_at = NULL
  FROM u JOIN ok ON ok.id = u.id
  WHERE r.id = u.id
  RETURNING r.id, r.workflow, r.concurrency_key
), notified AS (
  SELECT pg_notify($30, $31) WHERE $31 IS NOT NULL
  UNION ALL
  -- A limited run left its place: workers waiting for the place may claim now.
  SELECT pg_notify($30, json_build_object('workflows', json_agg(DISTINCT workflow),
                                          'wakeAt', null)::text)
  FROM updated WHERE concurrency_key IS NOT NULL HAVING count(*) > 0
)
SELECT (SELECT json_agg(created) FROM created) AS created,
       (SELECT json_agg(existing) FROM existing) AS existing,
       (SELECT json_agg(json_build_array(ok.id, ok.base)) FROM ok) AS written,
       (SELECT count(*) FROM notified) AS notified`;
}

/** Rows of a committed batch, as the statement returns them. */
export interface CommitRow {
  created: RunRow[] | null;
  existing: RunRow[] | null;
  written: Array<[string, number]> | null;
}

/** The statement's parameters for `batch`; `bases` gives the cached last seq of a run write. */
export function commitParams(
  batch: CommitBatch,
  creates: CommitBatch["creates"],
  bases: (write: RunWrite) => number | null,
  channel: string,
): unknown[] {
  const c = table(10);
  const deadlines: Array<number | null> = [];
  for (const x of creates) {
    c.add(
      x.id,
      x.workflow,
      x.version,
      x.input,
      x.priority,
      x.concurrencyKey,
      x.claim?.workerId ?? null,
      x.claim?.leaseMs ?? null,
      x.started.at,
      x.started.data,
    );
    deadlines.push(x.deadlineAt);
  }
  const w = table(3);
  const e = table(9);
  const u = table(6);
  for (const write of batch.writes) {
    w.add(write.runId, write.epoch, bases(write));
    toRows(write.entries).forEach((row, i) =>
      e.add(
        write.runId,
        i + 1,
        row.type,
        row.at,
        row.position,
        row.key,
        row.data,
        row.started_at,
        row.started_data,
      ),
    );
    const up = write.update;
    if (up === null) continue;
    u.add(
      write.runId,
      up.status,
      up.status === "completed" ? up.output : null,
      up.status === "failed" || up.status === "cancelled" || up.status === "timed_out"
        ? up.error
        : null,
      up.status === "paused" ? up.reason : null,
      up.status === "waiting" ? up.wakeAt : null,
    );
  }
  const wake = wakeOf(batch, creates);
  return [
    ...c.cols,
    ...w.cols,
    ...e.cols,
    ...u.cols,
    batch.now,
    channel,
    wake === null ? null : JSON.stringify(wake),
    deadlines,
  ];
}

/** Rows written per run write (a step's start and success share one). */
export function rowCount(write: RunWrite): number {
  return toRows(write.entries).length;
}

/** What other workers should hear about this batch, or null when it makes nothing runnable. */
function wakeOf(batch: CommitBatch, creates: CommitBatch["creates"]): StoreWake | null {
  const workflows = new Set<string>();
  let any = false;
  let wakeAt: number | null = null;
  for (const c of creates) if (c.claim === null) workflows.add(c.workflow);
  for (const w of batch.writes) {
    if (w.update?.status === "pending") any = true;
    if (w.update?.status === "waiting" && w.update.wakeAt !== null) {
      wakeAt = wakeAt === null ? w.update.wakeAt : Math.min(wakeAt, w.update.wakeAt);
    }
  }
  if (!any && workflows.size === 0 && wakeAt === null) return null;
  const list = any || workflows.size > WAKE_WORKFLOWS_MAX ? null : [...workflows];
  return { workflows: list, wakeAt };
}

/** Parameter arrays, one per column, filled a row at a time. */
function table(width: number) {
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  return {
    cols,
    add(...values: unknown[]): void {
      values.forEach((v, i) => cols[i]?.push(v));
    },
  };
}
