// PostgreSQL schema and its versioned migrations. Each migration runs once, in order, in one
// transaction under an advisory lock; `<schema>.migrations` records which ones ran.

/**
 * Migrations, index + 1 = the schema version they bring a database to. `S` stands for the
 * quoted schema name. Never edit a released one: add a new one.
 *
 * Times written by the engine (`*_at` as bigint) are milliseconds on the engine's clock, so
 * timers follow the clock tests control. Lease expiry (`lease_expires_at`) is a timestamptz
 * on the database's clock, so leases never depend on workers' clocks agreeing.
 */
const MIGRATIONS: readonly string[] = [
  `
  -- Ids are opaque: compared byte by byte (COLLATE "C"), whatever the database's locale.
  CREATE TABLE S.runs (
    id text COLLATE "C" PRIMARY KEY,
    workflow text NOT NULL,
    version text,
    status text NOT NULL,
    input text NOT NULL,
    output text,
    error text,
    paused_reason text,
    priority integer NOT NULL DEFAULT 0,
    concurrency_key text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    ended_at bigint,
    wake_at bigint,
    owner text,
    epoch bigint NOT NULL DEFAULT 0,
    lease_expires_at timestamptz,
    recoveries integer NOT NULL DEFAULT 0,
    progress_mark bigint NOT NULL DEFAULT 0,
    cancel_requested text,
    deadline_at bigint,
    -- Events at or below this position were sent before the run began: its waits skip them.
    event_cursor bigint NOT NULL DEFAULT 0
  ) WITH (fillfactor = 90);
  -- Claiming: runnable work by priority, due timers, expired leases, busy concurrency keys.
  CREATE INDEX runs_pending ON S.runs (priority DESC, created_at, id) WHERE status = 'pending';
  CREATE INDEX runs_due ON S.runs (wake_at) WHERE status = 'waiting';
  CREATE INDEX runs_leased ON S.runs (lease_expires_at) WHERE status = 'running';
  CREATE INDEX runs_running ON S.runs (workflow, concurrency_key) WHERE status = 'running';
  -- Listing, newest first, optionally by workflow or status.
  CREATE INDEX runs_created ON S.runs (created_at, id);
  CREATE INDEX runs_workflow ON S.runs (workflow, created_at, id);
  CREATE INDEX runs_status ON S.runs (status, created_at, id);
  -- A step's start and its result committed together share one row (started_*).
  CREATE TABLE S.journal (
    run_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    type text NOT NULL,
    at bigint NOT NULL,
    position integer,
    key text,
    data text,
    started_at bigint,
    started_data text,
    PRIMARY KEY (run_id, seq)
  );
  -- Events: pos orders them (since version 3, by a sequence; see below).
  CREATE TABLE S.events (
    pos bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text NOT NULL,
    data text NOT NULL,
    received_at bigint NOT NULL
  );
  CREATE INDEX events_by_name ON S.events (name, pos);
  CREATE INDEX events_by_time ON S.events (received_at);
  CREATE TABLE S.waits (
    run_id text COLLATE "C" NOT NULL,
    position integer NOT NULL,
    key text NOT NULL,
    kind text NOT NULL,
    target text NOT NULL,
    match_paths text NOT NULL,
    match_key text NOT NULL,
    timeout_at bigint NOT NULL,
    details text,
    added_approvers text NOT NULL DEFAULT '[]',
    status text NOT NULL,
    value text,
    created_at bigint NOT NULL,
    ended_at bigint,
    PRIMARY KEY (run_id, position)
  );
  CREATE INDEX waits_open ON S.waits (kind, target, match_paths, match_key) WHERE status = 'open';
  CREATE INDEX waits_ended ON S.waits (run_id) WHERE status NOT IN ('open', 'cancelled');
  CREATE INDEX approvals_open ON S.waits (created_at) WHERE kind = 'approval' AND status = 'open';
  CREATE TABLE S.consumed_events (
    run_id text COLLATE "C" NOT NULL,
    event_pos bigint NOT NULL,
    PRIMARY KEY (run_id, event_pos)
  );
  CREATE TABLE S.signals (
    run_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    name text NOT NULL,
    data text NOT NULL,
    sent_at bigint NOT NULL,
    consumed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE S.decisions (
    run_id text COLLATE "C" NOT NULL,
    position integer NOT NULL,
    "by" text NOT NULL,
    approved boolean NOT NULL,
    comment text,
    role text,
    at bigint NOT NULL,
    PRIMARY KEY (run_id, position, "by")
  );
  CREATE TABLE S.cursors (
    name text PRIMARY KEY,
    value bigint NOT NULL
  );
  -- Token buckets of rate limits (database clock, ms): tat_ms is when the bucket is full
  -- again after every reservation so far; granted_at_ms when the last one may start.
  CREATE TABLE S.rate_limits (
    key text PRIMARY KEY,
    tat_ms double precision NOT NULL,
    granted_at_ms double precision NOT NULL
  );
  `,
  `
  -- Totals of metered steps (model calls), added in the commit that journals each one.
  ALTER TABLE S.runs
    ADD COLUMN input_tokens double precision NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens double precision NOT NULL DEFAULT 0,
    ADD COLUMN cost_usd double precision NOT NULL DEFAULT 0,
    ADD COLUMN metered_calls integer NOT NULL DEFAULT 0;
  -- Each run's output stream: parts numbered from 0 without gaps; a keyed part is written once.
  CREATE TABLE S.stream (
    run_id text COLLATE "C" NOT NULL,
    seq integer NOT NULL,
    key text,
    at bigint NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE UNIQUE INDEX stream_by_key ON S.stream (run_id, key) WHERE key IS NOT NULL;
  `,
  `
  -- Events are numbered by a sequence instead of under one lock for all of them: events of
  -- unrelated correlation keys commit in parallel, and each event is numbered after every
  -- event of its keys (they lock their keys first; see waits.ts). No cache: numbers follow the
  -- order in which they are taken.
  CREATE SEQUENCE S.event_pos;
  SELECT setval('S.event_pos', greatest(last.pos, 1), last.pos > 0) FROM (
    SELECT greatest(coalesce((SELECT max(pos) FROM S.events), 0),
                    coalesce((SELECT value FROM S.cursors WHERE name = 'events:deleted'), 0)) AS pos
  ) AS last;
  ALTER TABLE S.events ALTER COLUMN pos SET DEFAULT nextval('S.event_pos');
  -- The match shapes (sorted paths) that event waits of each name have used: an event locks
  -- its key for each shape of its name. Rows are only added.
  CREATE TABLE S.event_shapes (
    name text NOT NULL,
    paths text NOT NULL,
    PRIMARY KEY (name, paths)
  );
  INSERT INTO S.event_shapes (name, paths)
    SELECT DISTINCT target, match_paths FROM S.waits WHERE kind = 'event';
  `,
  `
  -- Durable keyed memory: each key's current value, and its last writes. Writes to one key
  -- are serialized by a transaction-scoped advisory lock on the key (see memory.ts).
  CREATE TABLE S.memory (
    namespace text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    version integer NOT NULL,
    updated_at bigint NOT NULL,
    run_id text,
    by text,
    PRIMARY KEY (namespace, key)
  );
  CREATE INDEX memory_by_updated ON S.memory (namespace, updated_at);
  CREATE TABLE S.memory_history (
    namespace text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    version integer NOT NULL,
    value text NOT NULL,
    at bigint NOT NULL,
    run_id text,
    position integer,
    by text,
    PRIMARY KEY (namespace, key, version)
  );
  `,
  `
  -- Each run's data key, wrapped by the key ring (aesGcmCodec({ runKeys: true })); a shredded
  -- run keeps its row with no key, so that reads can say it was shredded.
  CREATE TABLE S.run_keys (
    run_id text COLLATE "C" PRIMARY KEY,
    wrapped text,
    created_at bigint NOT NULL,
    shredded_at bigint
  );
  `,
  `
  -- Child runs: the run that started each one, and whether it is cancelled with it.
  ALTER TABLE S.runs ADD COLUMN parent_id text;
  ALTER TABLE S.runs ADD COLUMN detached boolean NOT NULL DEFAULT false;
  CREATE INDEX runs_by_parent ON S.runs (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
  `,
  `
  -- Journal segments (ctx.continueAsNew): where each run's newest segment starts, found
  -- without reading the entries before it.
  CREATE INDEX journal_segments ON S.journal (run_id, seq) WHERE type = 'run_continued';
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Migration `version` (1-based) for the schema `schema`. */
export function migrationSql(version: number, schema: string): string {
  const sql = MIGRATIONS[version - 1];
  if (sql === undefined) throw new Error(`no migration ${version}`);
  return sql.replace(/\bS\./g, `${quoteIdent(schema)}.`);
}

/** Quotes an identifier (already checked to be a plain lower-case name). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
