// Every SQL statement the SQLite store runs, prepared once per connection.
import { DELETED_EVENTS_CURSOR, RUN_COLUMNS } from "../sql-rows.js";

/** The highest event position ever given: stored, or deleted by retention (see
 * DELETED_EVENTS_CURSOR). New events take the next one. */
export const LAST_EVENT_POS = `max(coalesce((SELECT max(pos) FROM events), 0),
  coalesce((SELECT value FROM cursors WHERE name = '${DELETED_EVENTS_CURSOR}'), 0))`;
import type Database from "better-sqlite3";

/** Prepared statements of the write connection (and a few of the read connection). */
export type Statements = Readonly<Record<StatementName, Database.Statement>> & {
  readonly deleteRunParts: readonly Database.Statement[];
};

type StatementName =
  | "insertRun"
  | "insertEntry"
  | "finishedBefore"
  | "eventFloor"
  | "deleteEvents"
  | "cursor"
  | "setCursor"
  | "eventsAfter"
  | "lastEventPos"
  | "requestCancel"
  | "fenceMany"
  | "insertStep"
  | "lastSeq"
  | "fence"
  | "getRun"
  | "getRunRead"
  | "runRow"
  | "touch"
  | "finishRun"
  | "pauseRun"
  | "releaseRun"
  | "cancelRun"
  | "resumeRun"
  | "pinVersion"
  | "retryRun"
  | "rewindRun"
  | "deleteWaitsFrom"
  | "deleteDecisionsFrom"
  | "renewLease"
  | "claimPending"
  | "claimDue"
  | "claimOrphaned"
  | "claimOwn"
  | "claimDiverged"
  | "claimVersionless"
  | "progress"
  | "claimRun"
  | "journal"
  | "journalSegment"
  | "nextWake"
  | "runningByKey"
  | "rateState"
  | "rateSave"
  | "addUsage";

/** A run's journal rows: keys from its number times 2^32 (schema migration 9), for `r`, a row
 * of runs, joined. */
export const RUN_ROWS = "j.k >= r.run_no * 4294967296 AND j.k < r.run_no * 4294967296 + 4294967296";

/** Values for a new journal row of run `@run`: its key and its columns, from `runs` (no row
 * when the run does not exist). */
const ENTRY_OF_RUN = "SELECT run_no * 4294967296 + @seq, @run, @seq";

const IN_WORKFLOWS = "workflow IN (SELECT value FROM json_each(@workflows))";

/** The run is pinned to a version the worker registers (`@versions`: a JSON array of
 * [workflow, version], or null for any version). */
const PINNED_HERE = `EXISTS (SELECT 1 FROM json_each(@versions) AS v
  WHERE json_extract(v.value, '$[0]') = workflow AND json_extract(v.value, '$[1]') IS version)`;
const IN_VERSIONS = `(@versions IS NULL OR ${PINNED_HERE})`;

/** What a claim needs of a candidate run. */
const CANDIDATE = "id, workflow, concurrency_key AS concurrencyKey";

/** Runs whose concurrency key is at its limit (`@full`: a JSON array of [workflow, key]). */
const NOT_FULL = `NOT EXISTS (SELECT 1 FROM json_each(@full) AS f
  WHERE json_extract(f.value, '$[0]') = workflow
    AND json_extract(f.value, '$[1]') = coalesce(concurrency_key, ''))`;

/** Prepares the statements; `reader` serves reads that need no lock. */
export function createStatements(db: Database.Database, reader: Database.Database): Statements {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (id, workflow, version, status, input, created_at, updated_at, owner, owner_pid, epoch,
         lease_expires_at, deadline_at, event_cursor, priority, concurrency_key, parent_id, detached, run_no)
       VALUES (@id, @workflow, @version, @status, @input, @created_at, @updated_at, @owner, @owner_pid, @epoch,
         @lease_expires_at, @deadline_at, (SELECT coalesce(max(pos), 0) FROM events), @priority,
         @concurrency_key, @parent_id, @detached, (SELECT coalesce(max(run_no), 0) + 1 FROM runs))`,
    ),
    insertEntry: db.prepare(
      `INSERT INTO journal (k, run_id, seq, type, at, position, key, data)
       ${ENTRY_OF_RUN}, @type, @at, @position, @key, @data FROM runs WHERE id = @run`,
    ),
    fence: db.prepare("SELECT epoch, status, owner, cancel_requested FROM runs WHERE id = ?"),
    fenceMany: db.prepare(
      "SELECT id, epoch FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND status = 'running'",
    ),
    getRun: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
    getRunRead: reader.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
    insertStep: db.prepare(
      `INSERT INTO journal (k, run_id, seq, type, at, position, key, data, started_at, started_data)
       ${ENTRY_OF_RUN}, 'step_succeeded', @at, @position, @key, @data, @startedAt, @startedData
       FROM runs WHERE id = @run`,
    ),
    lastSeq: db.prepare(
      `SELECT coalesce((SELECT j.seq FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = ?
         ORDER BY j.k DESC LIMIT 1), 0) AS s`,
    ),
    runRow: db.prepare("SELECT progress_mark, recoveries FROM runs WHERE id = ?"),
    touch: db.prepare("UPDATE runs SET updated_at = ? WHERE id = ?"),
    finishRun: db.prepare(
      `UPDATE runs SET status = @status, output = @output, error = @error, updated_at = @now, ended_at = @now,
         owner = NULL, owner_pid = NULL, lease_expires_at = NULL, wake_at = NULL, cancel_requested = NULL
       WHERE id = @id`,
    ),
    pauseRun: db.prepare(
      `UPDATE runs SET status = 'paused', paused_reason = ?, updated_at = ?,
         owner = NULL, owner_pid = NULL, lease_expires_at = NULL, wake_at = NULL WHERE id = ?`,
    ),
    releaseRun: db.prepare(
      `UPDATE runs SET status = ?, wake_at = ?, updated_at = ?,
         owner = NULL, owner_pid = NULL, lease_expires_at = NULL WHERE id = ?`,
    ),
    cancelRun: db.prepare(
      `UPDATE runs SET status = 'cancelled', error = @error, updated_at = @now, ended_at = @now, epoch = epoch + 1,
         owner = NULL, owner_pid = NULL, lease_expires_at = NULL, wake_at = NULL WHERE id = @id`,
    ),
    requestCancel: db.prepare(
      `UPDATE runs SET cancel_requested = coalesce(cancel_requested, ?), updated_at = ?,
         status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE id = ?`,
    ),
    cursor: reader.prepare("SELECT value FROM cursors WHERE name = ?"),
    setCursor: db.prepare(
      "INSERT INTO cursors (name, value) VALUES (@name, @value) ON CONFLICT (name) DO UPDATE SET value = max(value, @value)",
    ),
    eventsAfter: reader.prepare(
      "SELECT pos, id, name, data, received_at FROM events WHERE name = ? AND pos > ? ORDER BY pos LIMIT ?",
    ),
    lastEventPos: reader.prepare(`SELECT ${LAST_EVENT_POS} AS p`),
    finishedBefore: db.prepare(
      `SELECT id FROM runs WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND ended_at < ?
       ORDER BY ended_at LIMIT ?`,
    ),
    deleteRunParts: [
      db.prepare(`DELETE FROM journal WHERE k IN (SELECT j.k FROM runs r JOIN journal j ON ${RUN_ROWS}
        WHERE r.id = ?)`),
    ].concat(
      ["waits", "signals", "decisions", "consumed_events", "stream", "run_keys"].map((table) =>
        db.prepare(`DELETE FROM ${table} WHERE run_id = ?`),
      ),
      db.prepare("DELETE FROM runs WHERE id = ?"),
    ),
    // Events at or below the floor can be consumed by no run still going (each consumes only
    // events after its cursor) and were passed by every trigger.
    eventFloor: db.prepare(
      `SELECT min(c) AS floor FROM (
         SELECT min(event_cursor) AS c FROM runs WHERE status NOT IN ('completed', 'failed', 'cancelled', 'timed_out')
         UNION ALL SELECT min(value) FROM cursors WHERE name LIKE 'trigger:%')`,
    ),
    deleteEvents: db.prepare(
      `DELETE FROM events WHERE pos IN (
         SELECT pos FROM events WHERE received_at < @before AND (@floor IS NULL OR pos <= @floor)
         ORDER BY pos LIMIT @limit)
       RETURNING pos`,
    ),
    resumeRun: db.prepare(
      `UPDATE runs SET status = 'pending', paused_reason = NULL, recoveries = 0, updated_at = ? WHERE id = ?`,
    ),
    pinVersion: db.prepare("UPDATE runs SET version = ? WHERE id = ?"),
    retryRun: db.prepare(
      `UPDATE runs SET status = 'pending', error = NULL, ended_at = NULL, recoveries = 0, updated_at = ? WHERE id = ?`,
    ),
    rewindRun: db.prepare(
      `UPDATE runs SET status = 'pending', output = NULL, error = NULL, ended_at = NULL,
         paused_reason = NULL, cancel_requested = NULL, wake_at = NULL, owner = NULL,
         owner_pid = NULL, lease_expires_at = NULL, epoch = epoch + 1, recoveries = 0,
         updated_at = ? WHERE id = ?`,
    ),
    deleteWaitsFrom: db.prepare("DELETE FROM waits WHERE run_id = ? AND position >= ?"),
    deleteDecisionsFrom: db.prepare("DELETE FROM decisions WHERE run_id = ? AND position >= ?"),
    renewLease: db.prepare(
      "UPDATE runs SET lease_expires_at = ? WHERE id = ? AND owner = ? AND epoch = ? AND status = 'running'",
    ),
    claimPending: db.prepare(
      `SELECT ${CANDIDATE}, priority, created_at AS ord FROM runs
       WHERE status = 'pending' AND ${IN_WORKFLOWS} AND ${IN_VERSIONS} AND ${NOT_FULL}
       ORDER BY priority DESC, created_at LIMIT @limit`,
    ),
    claimDue: db.prepare(
      `SELECT ${CANDIDATE}, priority, wake_at AS ord FROM runs
       WHERE status = 'waiting' AND wake_at <= @now AND ${IN_WORKFLOWS} AND ${IN_VERSIONS} AND ${NOT_FULL}
       ORDER BY wake_at LIMIT @limit`,
    ),
    claimOrphaned: db.prepare(
      `SELECT ${CANDIDATE} FROM runs WHERE status = 'running' AND owner IS NOT @me AND ${IN_WORKFLOWS}
         AND ${IN_VERSIONS} AND (lease_expires_at <= @now OR endure_owner_alive(owner, owner_pid) = 0) LIMIT @limit`,
    ),
    claimOwn: db.prepare(
      `SELECT ${CANDIDATE} FROM runs WHERE status = 'running' AND owner = @me AND ${IN_WORKFLOWS}
         AND ${IN_VERSIONS} LIMIT @limit`,
    ),
    claimDiverged: db.prepare(
      `SELECT ${CANDIDATE} FROM runs WHERE status = 'paused'
         AND (paused_reason IN ('non_determinism', 'upcast_failed') OR (paused_reason = 'version_missing' AND @versions IS NOT NULL))
         AND ${IN_WORKFLOWS} AND ${IN_VERSIONS} LIMIT @limit`,
    ),
    // Runs pinned to a version this worker lacks that no worker took within the grace: this
    // worker claims them to pause them.
    claimVersionless: db.prepare(
      `SELECT ${CANDIDATE} FROM runs WHERE @versions IS NOT NULL AND ${IN_WORKFLOWS}
         AND NOT ${PINNED_HERE}
         AND ((status = 'pending' AND updated_at <= @graceBefore)
           OR (status = 'waiting' AND wake_at <= @graceBefore)
           OR (status = 'running' AND lease_expires_at <= @graceBefore))
       LIMIT @limit`,
    ),
    progress: db.prepare(
      `SELECT max(j.seq) AS p FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = ?
         AND j.type NOT IN ('run_recovered', 'run_resumed', 'step_attempt_started')`,
    ),
    claimRun: db.prepare(
      `UPDATE runs SET status = 'running', owner = @me, owner_pid = @pid, epoch = epoch + 1,
         lease_expires_at = @lease, wake_at = NULL, paused_reason = NULL, updated_at = @now,
         recoveries = @recoveries, progress_mark = @mark
       WHERE id = @id RETURNING ${RUN_COLUMNS}`,
    ),
    journal: reader.prepare(
      `SELECT j.seq, j.run_id, j.type, j.at, j.position, j.key, j.data, j.started_at, j.started_data
       FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = ? ORDER BY j.k`,
    ),
    // The newest segment: from the run's last run_continued on (journal_segments finds it).
    journalSegment: reader.prepare(
      `SELECT j.seq, j.run_id, j.type, j.at, j.position, j.key, j.data, j.started_at, j.started_data
       FROM runs r JOIN journal j ON j.k >= r.run_no * 4294967296 + (SELECT coalesce(max(seq), 0)
           FROM journal WHERE run_id = @id AND type = 'run_continued')
         AND j.k < r.run_no * 4294967296 + 4294967296
       WHERE r.id = @id ORDER BY j.k`,
    ),
    nextWake: reader.prepare("SELECT min(wake_at) AS at FROM runs WHERE status = 'waiting'"),
    runningByKey: db.prepare(
      `SELECT workflow, coalesce(concurrency_key, '') AS key, count(*) AS n FROM runs
       WHERE status = 'running' AND workflow IN (SELECT value FROM json_each(?))
       GROUP BY workflow, coalesce(concurrency_key, '')`,
    ),
    rateState: db.prepare("SELECT tat_ms FROM rate_limits WHERE key = ?"),
    rateSave: db.prepare(
      "INSERT INTO rate_limits (key, tat_ms) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET tat_ms = excluded.tat_ms",
    ),
    addUsage: db.prepare(
      `UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
         cost_usd = cost_usd + ?, metered_calls = metered_calls + 1 WHERE id = ?`,
    ),
  };
}

/**
 * The run-list query for the filters `filter` has, with only those conditions: a condition
 * such as `(@status IS NULL OR status = @status)` would keep SQLite from using an index, and
 * a page of a million runs must come from an index walk (created_at, id), not a scan.
 */
export function runListQuery(
  filter: {
    workflow?: string;
    status?: string;
    createdAfter?: number;
    createdBefore?: number;
    idContains?: string;
    parentId?: string;
  },
  hasCursor: boolean,
): string {
  const where: string[] = [];
  if (filter.workflow !== undefined) where.push("workflow = @workflow");
  if (filter.status !== undefined) where.push("status = @status");
  if (hasCursor)
    where.push("(created_at < @cursorAt OR (created_at = @cursorAt AND id < @cursorId))");
  if (filter.createdAfter !== undefined) where.push("created_at >= @after");
  if (filter.createdBefore !== undefined) where.push("created_at < @before");
  if (filter.idContains !== undefined) where.push("instr(id, @idText) > 0");
  if (filter.parentId !== undefined) where.push("parent_id = @parentId");
  return `SELECT ${RUN_COLUMNS} FROM runs ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
    ORDER BY created_at DESC, id DESC LIMIT @limit`;
}
