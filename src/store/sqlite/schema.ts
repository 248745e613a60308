// SQLite schema and its versioned migrations. Each migration runs once, in order, inside
// one write transaction; `user_version` records how far a file has come.

/** Marks a SQLite file as an endure store (`PRAGMA application_id`): "endu" in ASCII. */
export const APPLICATION_ID = 0x656e6475;

/** Migrations, index + 1 = the schema version they bring a file to. Never edit a released
 * one: add a new one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    paused_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    wake_at INTEGER,
    owner TEXT,
    owner_pid INTEGER,
    epoch INTEGER NOT NULL DEFAULT 0,
    lease_expires_at INTEGER,
    recoveries INTEGER NOT NULL DEFAULT 0,
    progress_mark INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_by_status ON runs (status, wake_at);
  CREATE INDEX runs_by_created ON runs (created_at, id);
  CREATE INDEX runs_by_workflow ON runs (workflow, created_at, id);
  -- A rowid table with its key as an index, not WITHOUT ROWID: many runs append at once, and
  -- appending rows at the table's end keeps each group commit's dirty pages (and WAL) few.
  CREATE TABLE journal (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    position INTEGER,
    key TEXT,
    data TEXT,
    started_at INTEGER,
    started_data TEXT,
    PRIMARY KEY (run_id, seq)
  );
  `,
  // 2: events, waits, signals, approvals; cancellation requests and deadlines on runs.
  `
  ALTER TABLE runs ADD COLUMN cancel_requested TEXT;
  ALTER TABLE runs ADD COLUMN deadline_at INTEGER;
  ALTER TABLE runs ADD COLUMN event_cursor INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE events (
    pos INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX events_by_name ON events (name, pos);
  CREATE INDEX events_by_time ON events (received_at);
  CREATE TABLE waits (
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    match_paths TEXT NOT NULL,
    match_key TEXT NOT NULL,
    timeout_at INTEGER NOT NULL,
    details TEXT,
    added_approvers TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    value TEXT,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    PRIMARY KEY (run_id, position)
  ) WITHOUT ROWID;
  CREATE INDEX waits_open_by_target ON waits (kind, target, status, match_paths, match_key);
  CREATE INDEX waits_by_kind ON waits (kind, status, created_at);
  CREATE TABLE consumed_events (
    run_id TEXT NOT NULL,
    event_pos INTEGER NOT NULL,
    PRIMARY KEY (run_id, event_pos)
  ) WITHOUT ROWID;
  CREATE TABLE signals (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE decisions (
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    by TEXT NOT NULL,
    approved INTEGER NOT NULL,
    comment TEXT,
    role TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (run_id, position, by)
  ) WITHOUT ROWID;
  CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  `,
  // 3: flow control: priorities, concurrency keys, and the token buckets of rate limits.
  `
  ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN concurrency_key TEXT;
  CREATE INDEX runs_pending ON runs (priority DESC, created_at) WHERE status = 'pending';
  CREATE INDEX runs_running ON runs (workflow, concurrency_key) WHERE status = 'running';
  CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat_ms REAL NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: per-run usage totals of metered steps, and each run's output stream.
  `
  ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN metered_calls INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE stream (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT,
    at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX stream_by_key ON stream (run_id, key) WHERE key IS NOT NULL;
  `,
  // 5: run lists filtered by status walk an index in page order, also among a million runs.
  `
  CREATE INDEX runs_by_status_created ON runs (status, created_at, id);
  `,
  // 6: durable keyed memory: each key's current value, and its last writes.
  `
  CREATE TABLE memory (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    run_id TEXT,
    by TEXT,
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID;
  CREATE INDEX memory_by_updated ON memory (namespace, updated_at);
  CREATE TABLE memory_history (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    value TEXT NOT NULL,
    at INTEGER NOT NULL,
    run_id TEXT,
    position INTEGER,
    by TEXT,
    PRIMARY KEY (namespace, key, version)
  ) WITHOUT ROWID;
  `,
  // 7: each run's data key, wrapped by the key ring (aesGcmCodec({ runKeys: true })); a
  // shredded run keeps its row with no key, so that reads can say it was shredded.
  `
  CREATE TABLE run_keys (
    run_id TEXT PRIMARY KEY,
    wrapped TEXT,
    created_at INTEGER NOT NULL,
    shredded_at INTEGER
  ) WITHOUT ROWID;
  `,
  // 8: child runs: the run that started each one, and whether it is cancelled with it.
  `
  ALTER TABLE runs ADD COLUMN parent_id TEXT;
  ALTER TABLE runs ADD COLUMN detached INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX runs_by_parent ON runs (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
  `,
  // 9: one b-tree per journal append. Each run gets a number in creation order, and a journal
  // row's key is that number times 2^32 plus its seq: a run's entries lie together, and runs
  // started together lie side by side, so a commit of one step writes one page of one b-tree
  // (before, the row and its (run_id, seq) index entry: two b-trees, and a group commit of
  // runs with random ids dirtied an index page per run). Readers keep their columns.
  `
  ALTER TABLE runs ADD COLUMN run_no INTEGER CHECK (run_no BETWEEN 1 AND 2147483647);
  UPDATE runs SET run_no = rowid;
  CREATE UNIQUE INDEX runs_by_no ON runs (run_no);
  CREATE TABLE journal_keyed (
    k INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    position INTEGER,
    key TEXT,
    data TEXT,
    started_at INTEGER,
    started_data TEXT
  );
  INSERT INTO journal_keyed (k, run_id, seq, type, at, position, key, data, started_at, started_data)
    SELECT r.run_no * 4294967296 + j.seq, j.run_id, j.seq, j.type, j.at, j.position, j.key, j.data,
      j.started_at, j.started_data
    FROM journal j JOIN runs r ON r.id = j.run_id ORDER BY r.run_no, j.seq;
  DROP TABLE journal;
  ALTER TABLE journal_keyed RENAME TO journal;
  `,
  // 10: journal segments (ctx.continueAsNew): where each run's newest segment starts, found
  // without reading the entries before it (a partial index: appends of other entries do not
  // touch it).
  `
  CREATE INDEX journal_segments ON journal (run_id, seq) WHERE type = 'run_continued';
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
