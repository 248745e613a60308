// Deterministic: every limit endure enforces, with its unit and reason, in one place.

/** Largest serialized payload (step result, input, output) in bytes: 2 MiB. A journal is
 * read back whole on replay, so one huge value slows every recovery of its run. */
export const PAYLOAD_BYTES_MAX_DEFAULT = 2 * 1024 * 1024;

/** Payload size in bytes above which a warning is logged: 256 KiB. Large step results are
 * usually documents that belong in a blob store, with only their key in the journal. */
export const PAYLOAD_BYTES_WARN_DEFAULT = 256 * 1024;

/** Deepest nesting the serializer accepts: 256 levels. Deeper values are refused instead of
 * overflowing the stack. */
export const PAYLOAD_DEPTH_MAX = 256;

/** Retries of a failed step attempt when the step gives none: 3 (so 4 attempts). */
export const STEP_RETRIES_DEFAULT = 3;

/** Most retries a step may ask for: 1,000. Beyond that a step is better modelled as a loop
 * with a durable sleep. */
export const STEP_RETRIES_MAX = 1_000;

/** First retry delay in milliseconds when a step gives no `backoff`: 1 s. */
export const BACKOFF_INITIAL_MS_DEFAULT = 1_000;

/** Longest retry delay in milliseconds when a step gives no `backoff`: 1 min. */
export const BACKOFF_MAX_MS_DEFAULT = 60_000;

/** Growth of the retry delay from one attempt to the next. */
export const BACKOFF_FACTOR_DEFAULT = 2;

/** Spread of a retry delay around its backoff, as a share of it: 0.2, so a 1 s backoff waits
 * from 0.8 s to 1.2 s (1 s on average), never longer than `backoff.max`. Runs failing together
 * then do not retry in lockstep. */
export const BACKOFF_JITTER_RATIO = 0.2;

/** Longest name (workflow or step) in characters: 200. Names are keys in the journal. */
export const NAME_LENGTH_MAX = 200;

/** Longest run id in characters: 256 (room for a caller's idempotency key). */
export const RUN_ID_LENGTH_MAX = 256;

/** Longest free text a person gives (an approval's comment, a cancel reason), in characters:
 * 10,000. It is journaled with the run; a document belongs in the run's input or a blob. */
export const COMMENT_LENGTH_MAX = 10_000;

/** Longest name of who decides an approval (or of a role), in characters: 256 (an e-mail
 * address fits). */
export const DECIDER_LENGTH_MAX = 256;

/** Longest workflow version or worker id, in characters: 200, like other names. */
export const LABEL_LENGTH_MAX = 200;

/** How long a run pinned to a workflow version a worker does not register may stay runnable
 * before that worker pauses it as `version_missing`, in ms: 1 min. Within it, a worker that
 * registers the version (a rolling deploy runs old and new workers side by side) claims it. */
export const VERSION_GRACE_MS_DEFAULT = 60_000;

/** Most journal entries one run may write: 100,000. A run that hits it is almost always a
 * loop that never ends; it fails with `journal_too_long` instead of filling the disk. */
export const JOURNAL_ENTRIES_MAX_DEFAULT = 100_000;

/** Timeout of a transactional step's attempt when the step gives none, in ms: 5 s. Its
 * transaction holds a lock (on SQLite the store's one write lock, on PostgreSQL its run's row)
 * until the body returns, so a body that never resolves must not hold it forever. */
export const TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT = 5_000;

/** Longest timeout a transactional step may ask for, in ms: 60 s. Longer work belongs in a
 * normal step with an idempotency key; a transaction is for a few quick writes. */
export const TRANSACTIONAL_STEP_TIMEOUT_MS_MAX = 60_000;

/** Longest duration accepted anywhere, in milliseconds: 10 years. */
export const DURATION_MS_MAX = 10 * 365 * 24 * 60 * 60 * 1000;

/** How long a worker's claim on a run lasts without a heartbeat, in milliseconds: 30 s. */
export const LEASE_MS_DEFAULT = 30_000;

/** Shortest lease accepted, in milliseconds: 1 s (heartbeats run at a third of it). */
export const LEASE_MS_MIN = 1_000;

/** Heartbeats per lease: 3. A worker renews its leases every third of the lease, so two
 * heartbeats in a row may fail (a slow store, a long pause) before a lease runs out. */
export const HEARTBEATS_PER_LEASE = 3;

/** Shortest pause between two heartbeats, in milliseconds: 250. One renewal is one store
 * round trip for all of a worker's runs; more often only loads the store. */
export const HEARTBEAT_INTERVAL_MS_MIN = 250;

/** How often a worker holding leases of `leaseMs` renews them, in milliseconds. */
export function heartbeatIntervalMs(leaseMs: number): number {
  return Math.max(HEARTBEAT_INTERVAL_MS_MIN, Math.floor(leaseMs / HEARTBEATS_PER_LEASE));
}

/** A wait (sleep, retry delay) longer than this, in milliseconds, evicts the run from memory
 * and resumes it by replay: 5 s. Shorter waits stay in memory and resume at once. */
export const IN_MEMORY_WAIT_MS_DEFAULT = 5_000;

/** Crashes in a row while recovering one run, with no progress in between, before the run is
 * paused as poison: 5. */
export const POISON_RECOVERIES_MAX_DEFAULT = 5;

/** Runs one worker keeps executing in memory at once: 2,000. Waiting runs are evicted and do
 * not count. */
export const WORKER_RUNS_MAX_DEFAULT = 2_000;

/** How often an idle worker looks for runnable runs in the store, in milliseconds: 200. Runs
 * started, woken or cancelled through the same engine are seen at once; this interval only
 * bounds how late work from other processes is noticed. */
export const POLL_INTERVAL_MS_DEFAULT = 200;

/** How often `handle.result()` looks at a run that another process executes, at the most,
 * in milliseconds: 1 s (it starts at 10 ms and backs off). */
export const RESULT_POLL_MS_MAX = 1_000;

/** Runs returned by one `listRuns` page when none is asked for: 100. */
export const LIST_RUNS_LIMIT_DEFAULT = 100;

/** Most runs one `listRuns` page may return: 1,000. */
export const LIST_RUNS_LIMIT_MAX = 1_000;

/** Most journal entries written in one group commit: 20,000. Larger batches are split so one
 * transaction never holds the write lock for long. */
export const COMMIT_BATCH_ENTRIES_MAX = 20_000;

/** How long `engine.close()` lets running step bodies finish before aborting them, in
 * milliseconds: 10 s. */
export const CLOSE_GRACE_MS_DEFAULT = 10_000;

/** Highest run priority: 1,000. Runs with a higher priority are claimed first. */
export const PRIORITY_MAX = 1_000;

/** Lowest run priority: -1,000. */
export const PRIORITY_MIN = -1_000;

/** Priority of a run when neither its workflow nor its start gives one. */
export const PRIORITY_DEFAULT = 0;

/** Largest concurrency limit: 100,000 runs at once. A limit above it limits nothing. */
export const CONCURRENCY_LIMIT_MAX = 100_000;

/** Longest concurrency key, in characters: 256. Keys are stored with each run. */
export const CONCURRENCY_KEY_LENGTH_MAX = 256;

/** Longest rate-limit key, in characters: 256. */
export const RATE_LIMIT_KEY_LENGTH_MAX = 256;

/** Shortest rate-limit period, in milliseconds: 1 s. Providers count per second at the finest;
 * shorter periods only measure the workers' round trips. */
export const RATE_LIMIT_PERIOD_MS_MIN = 1_000;

/** Longest rate-limit period, in milliseconds: 31 days (monthly quotas are budgets, not rates). */
export const RATE_LIMIT_PERIOD_MS_MAX = 31 * 24 * 60 * 60 * 1000;

/** Largest rate limit in units per period: 1e12 (a trillion tokens). */
export const RATE_LIMIT_UNITS_MAX = 1e12;
/** Largest part of a run's output stream, serialized, in bytes: 256 KiB. Readers fetch parts
 * in pages; a part is a token delta, a tool result or a progress note, never a document. */
export const STREAM_PART_BYTES_MAX = 256 * 1024;

/** Parts returned by one read of a run's output stream when none is asked for: 256. */
export const STREAM_READ_LIMIT_DEFAULT = 256;

/** Most parts one read of a run's output stream may return: 1,000. */
export const STREAM_READ_LIMIT_MAX = 1_000;

/** Parts a run's output stream holds by default: 1,000,000 (a long agent's token deltas).
 * The last place holds a `data-endure-stream-full` part and later parts are dropped; the run
 * goes on, since its journal, not its stream, holds what it did. Stores take
 * `streamPartsMax` to change it. */
export const STREAM_PARTS_MAX_DEFAULT = 1_000_000;

/** Longest a wait (event, signal, approval) lasts when the code gives no timeout, in ms:
 * 30 days. No wait is forever by accident. */
export const WAIT_TIMEOUT_MS_DEFAULT = 30 * 24 * 60 * 60 * 1000;

/** How long `ctx.invoke` waits for its child when it gives no `timeout`, in ms: 8e15 (about
 * 250,000 years, within reach of a Date), that is until the child ends. A child is bounded by
 * its own workflow's `ttl`, not by its parent's patience. */
export const CHILD_WAIT_TIMEOUT_MS_NONE = 8_000_000_000_000_000;

/** Most field paths in one wait's `match`: 8. */
export const MATCH_PATHS_MAX = 8;

/** Most rungs in a wait's policy ladder: 16. */
export const WAIT_POLICY_RUNGS_MAX = 16;

/** Most approvers named on one approval: 100. */
export const APPROVERS_MAX = 100;

/** How long finished runs and consumed events are kept before `gc` deletes them, in ms:
 * 30 days. */
export const RETENTION_MS_DEFAULT = 30 * 24 * 60 * 60 * 1000;

/** How long an event id is remembered, so that sending it again is a duplicate
 * (`created: false`), in ms: the retention period (30 days by default). An event is kept, and
 * its id deduplicated, until retention deletes it, which is at least this long after it was
 * received, and later while a live run or a trigger could still take it. Past that, the same
 * id is a new event. The engine's `retention` option sets both. */
export const EVENT_DEDUP_MS_DEFAULT = RETENTION_MS_DEFAULT;

/** Runs or events deleted per transaction by `gc`: 500, so that cleaning never holds the
 * write lock for long. */
export const GC_BATCH_MAX = 500;

/** Missed schedule ticks started after downtime with `catchUp: "all"`: 100 at the most. */
export const SCHEDULE_CATCH_UP_MAX = 100;

/** Longest event id, in characters: 256. */
export const EVENT_ID_LENGTH_MAX = 256;

/** Events read per query by a worker starting event-triggered runs: 100. */
export const TRIGGER_BATCH_MAX = 100;

/** Longest `engine.health()` waits for the store, in milliseconds: 2 s. Health probes need an
 * answer, and a store that takes longer is not healthy anyway. */
export const HEALTH_CHECK_MS_MAX = 2_000;

/** Journal entries in one `engine.journalPage` page when none is asked for: 500. */
export const JOURNAL_PAGE_LIMIT_DEFAULT = 500;

/** Most journal entries one `engine.journalPage` page may return: 5,000. */
export const JOURNAL_PAGE_LIMIT_MAX = 5_000;

/** Longest text `listRuns` matches run ids against (`idContains`), in characters: 256. */
export const RUN_ID_TEXT_LENGTH_MAX = 256;

/** Largest value one memory key holds, serialized, in bytes: 256 KiB. Every read and write
 * of it is journaled with the run that makes it, so a document belongs in a blob store with
 * its key in memory. */
export const MEMORY_VALUE_BYTES_MAX = 256 * 1024;

/** Longest memory key, in characters: 512 (room for a path such as `customer/42/notes`). */
export const MEMORY_KEY_LENGTH_MAX = 512;

/** Changes of one memory key kept in its history: the last 100. Older ones are dropped as
 * new ones are written; the key's current value is never dropped but by retention. */
export const MEMORY_HISTORY_PER_KEY_MAX = 100;

/** Keys returned by one memory listing when none is asked for: 100. */
export const MEMORY_LIST_LIMIT_DEFAULT = 100;

/** Most keys (or history changes) one memory listing may return: 1,000. */
export const MEMORY_LIST_LIMIT_MAX = 1_000;

/** Items of `ctx.map` running at once when the call gives no `concurrency`: 10. Enough to
 * overlap slow calls, few enough not to flood the service the items call. */
export const MAP_CONCURRENCY_DEFAULT = 10;

/** Run data keys `engine.rotateKeys` (`endure keys rotate`) reads and rewraps a page at a time:
 * 500. */
export const KEY_ROTATION_PAGE = 500;

/** Fields the `redact` option may name: 1,000 (each shown value is matched against them). */
export const REDACT_FIELDS_MAX = 1_000;

/** With `blobs`, a step result or run output whose stored data is longer than this, in
 * bytes, is kept in the blob store and the journal holds its hash: 256 KiB. */
export const BLOB_THRESHOLD_BYTES_DEFAULT = 256 * 1024;

/** With `blobs`, the largest serialized step result or run output, in bytes: 64 MiB (without
 * blobs, `limits.payloadBytesMax` applies to them as to every payload). */
export const BLOB_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
