// A group commit on PostgreSQL as one statement, so one round trip and one WAL flush serve
// every run in the batch: run creations, fenced journal appends and status changes travel as
// arrays (unnest) through data-modifying CTEs, which PostgreSQL applies atomically. The
// statement holds only the parts a batch needs (a step's commit is a fence and an insert),
// since every CTE costs time to plan and run even when its arrays are empty.
import type { NewEntry } from "../../core/journal.js";
import { streamFullPart } from "../../core/stream.js";
import { addUsage, NO_USAGE, type RunUsage } from "../../core/usage.js";
import type { CommitBatch, RunWrite, StoreWake } from "../store.js";
import { quoteIdent } from "./schema.js";
import { RUN_COLUMNS, toEntryRows as toRows, type RunRow } from "../sql-rows.js";

/** Statuses a run ends with. */
const ENDED = "('completed', 'failed', 'cancelled', 'timed_out')";

/** Most workflow names a wake-up notification lists; past that it says "any". The payload
 * of a NOTIFY must stay under 8,000 bytes. */
export const WAKE_WORKFLOWS_MAX = 32;

/** Rows of a committed batch, as the statement returns them. */
export interface CommitRow {
  created?: RunRow[] | null;
  existing?: RunRow[] | null;
  written?: Array<[string, number]> | null;
}

/** A commit statement for one batch: its text (the same for batches of the same shape). */
export interface CommitStatement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** Parameters in order, each placed in the text as `$n::type`. */
class Params {
  readonly values: unknown[] = [];
  add(type: string, value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
  /** `unnest` of several parameter arrays as a table with the given columns. */
  table(alias: string, cols: ReadonlyArray<[string, string, unknown[]]>): string {
    const args = cols.map(([, type, values]) => this.add(`${type}[]`, values)).join(", ");
    return `unnest(${args}) AS ${alias}(${cols.map(([name]) => name).join(", ")})`;
  }
}

/**
 * Builds the commit statement for `batch` on `schema`. Fencing: `fence` locks the written
 * runs' rows FOR SHARE, so a claim or cancel that would raise their epoch waits for this
 * commit (or, if it came first, this commit sees the new epoch and writes nothing for that
 * run). Sequence numbers continue from the caller's cache (`bases`) or from the journal.
 */
export function buildCommit(
  schema: string,
  batch: CommitBatch,
  creates: CommitBatch["creates"],
  bases: (write: RunWrite) => number | null,
  channel: string,
  streamPartsMax: number,
): CommitStatement {
  const S = quoteIdent(schema);
  const p = new Params();
  const ctes: string[] = [];
  const outputs: string[] = [];
  const shape: string[] = [];
  if (creates.length > 0) {
    shape.push("c");
    ctes.push(...createCtes(S, p, creates, batch.now));
    outputs.push(
      "(SELECT json_agg(created) FROM created) AS created",
      "(SELECT json_agg(existing) FROM existing) AS existing",
    );
  }
  const writes = batch.writes;
  if (writes.length > 0) {
    shape.push("w");
    ctes.push(...writeCtes(S, p, writes, bases));
    outputs.push("(SELECT json_agg(json_build_array(ok.id, ok.base)) FROM ok) AS written");
    if (writes.some((w) => (w.chunks?.length ?? 0) > 0)) {
      shape.push("s");
      ctes.push(...streamCtes(S, p, writes, streamPartsMax));
    }
    const metered = writes.some(hasUsage);
    if (metered) {
      shape.push("m");
      ctes.push(usageCte(S, p, writes));
    }
    const updates = writes.filter((w) => w.update !== null);
    if (updates.length > 0) {
      shape.push("u");
      ctes.push(...updateCtes(S, p, updates, batch.now, metered));
    }
    if (updates.length > 0) {
      // A limited run left its place: workers waiting for the place may claim now.
      ctes.push(`freed AS (
  SELECT pg_notify(${p.add("text", channel)}, json_build_object(
           'workflows', json_agg(DISTINCT workflow), 'wakeAt', null)::text)
  FROM updated WHERE concurrency_key IS NOT NULL HAVING count(*) > 0
)`);
      outputs.push("(SELECT count(*) FROM freed) AS freed");
    }
  }
  const wake = wakeOf(batch, creates);
  if (wake !== null) {
    shape.push("n");
    ctes.push(
      `notified AS (SELECT pg_notify(${p.add("text", channel)}, ${p.add("text", JSON.stringify(wake))}))`,
    );
    outputs.push("(SELECT count(*) FROM notified) AS notified");
  }
  const text = `WITH ${ctes.join(",\n")}\nSELECT ${outputs.join(", ")}`;
  return { name: `endure_commit_${schema}_${shape.join("")}`, text, values: p.values };
}

function createCtes(S: string, p: Params, creates: CommitBatch["creates"], now: number): string[] {
  const col = <T>(f: (c: CommitBatch["creates"][number]) => T): T[] => creates.map(f);
  const ids = p.add(
    "text[]",
    col((c) => c.id),
  );
  const table = p.table("c", [
    ["id", "text", col((c) => c.id)],
    ["workflow", "text", col((c) => c.workflow)],
    ["version", "text", col((c) => c.version)],
    ["input", "text", col((c) => c.input)],
    ["priority", "int", col((c) => c.priority)],
    ["ckey", "text", col((c) => c.concurrencyKey)],
    ["owner", "text", col((c) => c.claim?.workerId ?? null)],
    ["lease_ms", "float8", col((c) => c.claim?.leaseMs ?? null)],
    ["at", "bigint", col((c) => c.started.at)],
    ["data", "text", col((c) => c.started.data)],
    ["deadline", "bigint", col((c) => c.deadlineAt)],
  ]);
  const at = p.add("bigint", now);
  return [
    `c AS (SELECT * FROM ${table})`,
    `created AS (
  INSERT INTO ${S}.runs AS r (id, workflow, version, status, input, priority, concurrency_key,
                              created_at, updated_at, owner, epoch, lease_expires_at, deadline_at,
                              event_cursor)
  SELECT id, workflow, version, CASE WHEN owner IS NULL THEN 'pending' ELSE 'running' END, input,
         priority, ckey, ${at}, ${at}, owner, CASE WHEN owner IS NULL THEN 0 ELSE 1 END,
         CASE WHEN owner IS NULL THEN NULL
              ELSE clock_timestamp() + lease_ms * interval '1 millisecond' END,
         deadline, (SELECT coalesce(max(pos), 0) FROM ${S}.events)
  FROM c
  ON CONFLICT (id) DO NOTHING
  RETURNING ${RUN_COLUMNS}
)`,
    `started AS (
  INSERT INTO ${S}.journal (run_id, seq, type, at, data)
  SELECT c.id, 1, 'run_started', c.at, c.data FROM c JOIN created ON created.id = c.id
)`,
    `existing AS (SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE id = ANY(${ids}))`,
  ];
}

function writeCtes(
  S: string,
  p: Params,
  writes: readonly RunWrite[],
  bases: (write: RunWrite) => number | null,
): string[] {
  // The ids are one parameter used twice: the fence finds its rows through the primary key.
  const ids = p.add(
    "text[]",
    writes.map((x) => x.runId),
  );
  const epochs = p.add(
    "bigint[]",
    writes.map((x) => x.epoch),
  );
  const w = `unnest(${ids}, ${epochs}, ${p.add("int[]", writes.map(bases))}) AS w(id, epoch, base)`;
  const rows = writes.flatMap((x) => toRows(x.entries).map((row, i) => ({ run: x.runId, i, row })));
  const e = p.table("e", [
    ["run", "text", rows.map((r) => r.run)],
    ["off", "int", rows.map((r) => r.i + 1)],
    ["type", "text", rows.map((r) => r.row.type)],
    ["at", "bigint", rows.map((r) => r.row.at)],
    ["pos", "int", rows.map((r) => r.row.position)],
    ["key", "text", rows.map((r) => r.row.key)],
    ["data", "text", rows.map((r) => r.row.data)],
    ["sat", "bigint", rows.map((r) => r.row.started_at)],
    ["sdata", "text", rows.map((r) => r.row.started_data)],
  ]);
  return [
    `w AS (SELECT * FROM ${w})`,
    `fence AS (
  SELECT r.id, r.epoch, r.status FROM ${S}.runs r
  WHERE r.id = ANY(${ids})
  ORDER BY r.id
  FOR SHARE
)`,
    `ok AS (
  SELECT w.id, coalesce(w.base, (SELECT max(j.seq) FROM ${S}.journal j WHERE j.run_id = w.id), 0)
           AS base
  FROM w JOIN fence f ON f.id = w.id AND f.epoch = w.epoch AND f.status = 'running'
)`,
    `e AS (SELECT * FROM ${e})`,
    `appended AS (
  INSERT INTO ${S}.journal (run_id, seq, type, at, position, key, data, started_at, started_data)
  SELECT e.run, ok.base + e.off, e.type, e.at, e.pos, e.key, e.data, e.sat, e.sdata
  FROM e JOIN ok ON ok.id = e.run
)`,
  ];
}

/** What the metered entries among `entries` used, summed. */
export function sumUsage(entries: readonly NewEntry[]): RunUsage {
  let total = NO_USAGE;
  for (const e of entries) if (e.usage !== undefined) total = addUsage(total, e.usage);
  return total;
}

/** Whether a write journals a metered step (one whose entry carries `usage`). */
export function hasUsage(write: RunWrite): boolean {
  return write.entries.some((e) => e.usage !== undefined);
}

/**
 * Output-stream parts of the writes that hold their lease, each run's numbered on from its
 * last part; a part whose key the run's stream (or an earlier part of this batch) already
 * holds is skipped without taking a number. The last place of a full stream gets the
 * stream-full part, and parts past it are dropped.
 */
function streamCtes(S: string, p: Params, writes: readonly RunWrite[], max: number): string[] {
  const parts = writes.flatMap((w) => (w.chunks ?? []).map((c, i) => ({ run: w.runId, i, c })));
  const table = p.table("ch", [
    ["run", "text", parts.map((x) => x.run)],
    ["off", "int", parts.map((x) => x.i)],
    ["key", "text", parts.map((x) => x.c.key)],
    ["at", "bigint", parts.map((x) => x.c.at)],
    ["data", "text", parts.map((x) => x.c.data)],
  ]);
  return [
    `ch AS (
  SELECT ch.* FROM ${table} JOIN ok ON ok.id = ch.run
  WHERE ch.key IS NULL OR NOT EXISTS (
    SELECT 1 FROM ${S}.stream s WHERE s.run_id = ch.run AND s.key = ch.key)
)`,
    `numbered AS (
  SELECT ch.run,
         coalesce((SELECT max(s.seq) FROM ${S}.stream s WHERE s.run_id = ch.run), -1)
           + row_number() OVER (PARTITION BY ch.run ORDER BY ch.off) AS seq,
         ch.key, ch.at, ch.data
  FROM ch
  WHERE ch.key IS NULL OR NOT EXISTS (
    SELECT 1 FROM ch c2 WHERE c2.run = ch.run AND c2.key = ch.key AND c2.off < ch.off)
)`,
    `streamed AS (
  INSERT INTO ${S}.stream (run_id, seq, key, at, data)
  SELECT run, seq, key, at,
         CASE WHEN seq = ${p.add("int", max - 1)} THEN ${p.add("text", streamFullPart(max))} ELSE data END
  FROM numbered WHERE seq < ${p.add("int", max)}
)`,
  ];
}

/** Sums of the writes' metered entries, per run that holds its lease. */
function usageCte(S: string, p: Params, writes: readonly RunWrite[]): string {
  const sums = writes
    .filter(hasUsage)
    .map((w) => ({ id: w.runId, update: w.update !== null, ...sumUsage(w.entries) }));
  const table = p.table("m", [
    ["id", "text", sums.map((x) => x.id)],
    ["inp", "float8", sums.map((x) => x.inputTokens)],
    ["outp", "float8", sums.map((x) => x.outputTokens)],
    ["cost", "float8", sums.map((x) => x.costUsd)],
    ["calls", "int", sums.map((x) => x.calls)],
    ["upd", "bool", sums.map((x) => x.update)],
  ]);
  // A run whose status changes too gets its sums from `updated`: one statement may not
  // update a row twice.
  return `m AS (SELECT m.* FROM ${table} JOIN ok ON ok.id = m.id),
metered AS (
  UPDATE ${S}.runs r SET input_tokens = r.input_tokens + m.inp,
    output_tokens = r.output_tokens + m.outp, cost_usd = r.cost_usd + m.cost,
    metered_calls = r.metered_calls + m.calls
  FROM m WHERE r.id = m.id AND NOT m.upd
)`;
}

function updateCtes(
  S: string,
  p: Params,
  updates: readonly RunWrite[],
  now: number,
  metered: boolean,
): string[] {
  const ups = updates.map((x) => ({ id: x.runId, u: x.update as NonNullable<RunWrite["update"]> }));
  const u = p.table("u", [
    ["id", "text", ups.map((x) => x.id)],
    ["status", "text", ups.map((x) => x.u.status)],
    ["output", "text", ups.map((x) => (x.u.status === "completed" ? x.u.output : null))],
    [
      "error",
      "text",
      ups.map((x) =>
        x.u.status === "failed" || x.u.status === "cancelled" || x.u.status === "timed_out"
          ? x.u.error
          : null,
      ),
    ],
    ["reason", "text", ups.map((x) => (x.u.status === "paused" ? x.u.reason : null))],
    ["wake", "bigint", ups.map((x) => (x.u.status === "waiting" ? x.u.wakeAt : null))],
  ]);
  const at = p.add("bigint", now);
  const usageSet = metered
    ? `,
    input_tokens = r.input_tokens + coalesce(m.inp, 0),
    output_tokens = r.output_tokens + coalesce(m.outp, 0),
    cost_usd = r.cost_usd + coalesce(m.cost, 0),
    metered_calls = r.metered_calls + coalesce(m.calls, 0)`
    : "";
  const usageJoin = metered ? " LEFT JOIN m ON m.id = u.id" : "";
  return [
    // A run going to sleep while one of its waits already ended (and this batch does not
    // journal it) must not sleep through it.
    `u AS (
  SELECT u.*, u.status = 'waiting' AND EXISTS (
      SELECT 1 FROM ${S}.waits wt
      WHERE wt.run_id = u.id AND wt.status NOT IN ('open', 'cancelled')
        AND NOT EXISTS (SELECT 1 FROM ${S}.journal j WHERE j.run_id = wt.run_id
                          AND j.position = wt.position AND j.type = 'wait_completed')
        AND NOT EXISTS (SELECT 1 FROM e WHERE e.run = wt.run_id AND e.pos = wt.position
                          AND e.type = 'wait_completed')
    ) AS undelivered
  FROM ${u}
)`,
    `updated AS (
  UPDATE ${S}.runs r SET
    status = CASE WHEN u.status = 'waiting' AND (u.undelivered OR r.cancel_requested IS NOT NULL)
                  THEN 'pending' ELSE u.status END,
    wake_at = CASE WHEN u.undelivered OR r.cancel_requested IS NOT NULL THEN NULL ELSE u.wake END,
    output = u.output, error = u.error, paused_reason = u.reason, updated_at = ${at},
    ended_at = CASE WHEN u.status IN ${ENDED} THEN ${at} END,
    cancel_requested = CASE WHEN u.status IN ${ENDED} THEN NULL ELSE r.cancel_requested END,
    owner = NULL, lease_expires_at = NULL${usageSet}
  FROM u JOIN ok ON ok.id = u.id${usageJoin}
  WHERE r.id = u.id
  RETURNING r.id, r.workflow, r.concurrency_key
)`,
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
