// The PostgreSQL store: many workers on many machines share one database. Group commits are
// one statement each; claims skip locked rows; leases and rate limits use the database's
// clock; LISTEN/NOTIFY wakes idle workers.
import pg from "pg";
import { EndureError } from "../../core/errors.js";
import type { JournalEntry, NewEntry } from "../../core/journal.js";
import type { WaitClosure } from "../../core/run-port.js";
import { TERMINAL_STATUSES, type Cancellation, type SqlTransaction } from "../../core/types.js";
import type {
  ApprovalRecord,
  CancelResult,
  ClaimedRun,
  ClaimRequest,
  CommitBatch,
  CommitResult,
  CreateResult,
  DecideResult,
  DecisionInput,
  EventInput,
  EventRecord,
  InboxItem,
  RateGrant,
  RateRequest,
  ResumeResult,
  RunFilter,
  RunPage,
  RunRecord,
  RunWrite,
  SendEventResult,
  SignalResult,
  Store,
  StoreWake,
  WaitRecord,
  WriteResult,
} from "../store.js";
import { claimRuns, LEASE_MARK } from "./claim.js";
import { buildCommit, rowCount, type CommitRow, type CommitStatement } from "./commit.js";
import { clientConfig, createPool, query, withClient, type RetryPolicy } from "./connection.js";
import { isConnectionFailure, redactUrl, storeError } from "./errors.js";
import { Listener } from "./listener.js";
import { migrate, type MigrationReport } from "./migrate.js";
import { RUN_COLUMNS, toEntries, toRecord, toRows, type EntryRow, type RunRow } from "./rows.js";
import { quoteIdent } from "./schema.js";
import { SEQ_CACHE_RUNS_MAX, settingsOf, type PostgresSettings } from "./settings.js";
import type { PostgresStoreOptions } from "./settings.js";
import { createSqlTransaction } from "./sql-transaction.js";
import { eventNameLock, eventsLock, lockKeys, PostgresWaits, toEvent } from "./waits.js";

const READ: RetryPolicy = { idempotent: true };
const WRITE: RetryPolicy = { idempotent: false };

/** SQLSTATE of a unique violation: a fast append met a lease mark (its run was taken). */
const UNIQUE_VIOLATION = "23505";

function codeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

/** A wake-up for any worker: runs may be runnable, and held runs may have news. */
const ANY: StoreWake = { workflows: null, wakeAt: null };

/**
 * The PostgreSQL implementation of {@link Store}. Create it with `postgresStore`.
 *
 * @example
 * ```ts
 * const store = postgresStore(process.env.DATABASE_URL!, { schema: "endure", poolSize: 10 });
 * await store.open(); // migrates (or refuses a newer schema with store_too_new)
 * console.log(store.migration); // { from: 0, to: 1 } on a new database
 * await store.close();
 * ```
 */
export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  readonly description: string;
  readonly settings: PostgresSettings;
  /** The schema version found when the store opened, and the one it has now. */
  migration: MigrationReport | null = null;
  private pool: pg.Pool | null = null;
  private readonly url: string | null;
  private readonly givenPool: pg.Pool | null;
  private listener: Listener | null = null;
  /** The connection fast appends use, and whether one is under way. */
  private appender: pg.PoolClient | null = null;
  private appending = false;
  private readonly S: string;
  private readonly channel: string;
  private readonly waits: PostgresWaits;
  /** Last journal seq of runs written under an epoch this process holds (no one else appends). */
  private readonly seqs = new Map<string, { epoch: number; seq: number }>();

  constructor(urlOrPool: string | pg.Pool, options: PostgresStoreOptions = {}) {
    this.settings = settingsOf(options);
    this.url = typeof urlOrPool === "string" ? urlOrPool : null;
    this.givenPool = typeof urlOrPool === "string" ? null : urlOrPool;
    const where = this.url === null ? "a PostgreSQL pool" : redactUrl(this.url);
    this.description = `${where} (schema ${this.settings.schema})`;
    this.S = quoteIdent(this.settings.schema);
    this.channel = `endure_wake_${this.settings.schema}`;
    this.waits = new PostgresWaits(this.S, this.settings.schema);
  }

  async open(): Promise<void> {
    if (this.pool !== null) return;
    const pool = this.givenPool ?? createPool(this.url ?? "", this.settings);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      if (this.givenPool === null) await pool.end().catch(() => undefined);
      throw storeError(e, this.description, "opening it");
    }
    try {
      this.migration = await migrate(
        client,
        this.settings.schema,
        this.description,
        this.settings.migrate,
      );
      client.release();
    } catch (e) {
      client.release(e as Error);
      if (this.givenPool === null) await pool.end().catch(() => undefined);
      throw e instanceof EndureError ? e : storeError(e, this.description, "migrating it");
    }
    this.pool = pool;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await this.listener?.close();
    this.listener = null;
    this.appender?.release();
    this.appender = null;
    this.seqs.clear();
    if (pool !== null && this.givenPool === null) await pool.end();
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    if (batch.creates.length === 0 && batch.writes.length === 0) return { creates: [], writes: [] };
    const fast = await this.commitAppends(batch);
    if (fast !== null) return fast;
    const unique = [...new Map(batch.creates.map((c) => [c.id, c])).values()];
    const statement = buildCommit(
      this.settings.schema,
      batch,
      unique,
      (w) => this.cachedSeq(w),
      this.channel,
    );
    // Waits, and runs going to sleep, need more than the one statement (see commitWithWaits).
    const simple = batch.writes.every(
      (w) => (w.waits?.length ?? 0) === 0 && w.update?.status !== "waiting",
    );
    let row: CommitRow | undefined;
    try {
      [row] = await this.use("committing", WRITE, (c) =>
        simple
          ? query<CommitRow>(c, statement.text, statement.values, statement.name)
          : this.commitWithWaits(c, batch, statement),
      );
    } catch (e) {
      // The outcome is unknown: cached sequence numbers may be ahead of the journal.
      for (const w of batch.writes) this.seqs.delete(w.runId);
      throw e;
    }
    return {
      creates: await this.createResults(batch, row),
      writes: this.writeResults(batch.writes, row),
    };
  }

  async transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    let bodyFailed: { error: unknown } | null = null;
    const result = await this.use("running a transactional step", WRITE, async (client) => {
      await client.query("BEGIN");
      let end: (() => void) | null = null;
      try {
        const [fence] = await query<{ epoch: number; last: number | null }>(
          client,
          `SELECT epoch, (SELECT max(seq) FROM ${this.S}.journal WHERE run_id = $1) AS last
           FROM ${this.S}.runs WHERE id = $1 AND status = 'running' FOR SHARE`,
          [runId],
        );
        if (fence?.epoch !== epoch) {
          await client.query("ROLLBACK");
          this.seqs.delete(runId);
          return { kind: "fenced" } as const;
        }
        const cached = this.seqs.get(runId);
        let seq = cached?.epoch === epoch ? cached.seq : (fence.last ?? 0);
        seq = await this.insertRows(client, runId, seq, before);
        const handle = createSqlTransaction(client);
        end = handle.end;
        let entries: readonly NewEntry[];
        try {
          entries = await body(handle.tx);
        } catch (e) {
          bodyFailed = { error: e };
          throw e;
        }
        handle.end();
        seq = await this.insertRows(client, runId, seq, entries);
        await query(client, `UPDATE ${this.S}.runs SET updated_at = $2 WHERE id = $1`, [
          runId,
          now,
        ]);
        await client.query("COMMIT");
        this.remember(runId, epoch, seq);
        return { kind: "committed" } as const;
      } catch (e) {
        end?.();
        this.seqs.delete(runId);
        await client.query("ROLLBACK").catch(() => undefined);
        if (bodyFailed !== null) return bodyFailed;
        throw e;
      }
    });
    if ("error" in result) throw result.error;
    return result;
  }

  claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    return this.use("claiming runs", WRITE, async (c) => {
      const claimed = await claimRuns(c, this.settings.schema, request);
      for (const { run, markSeq } of claimed) this.remember(run.id, run.epoch, markSeq);
      const journals = await this.readJournals(
        c,
        claimed.map((x) => x.run.id),
      );
      return claimed.map(({ run, takeover }) => ({
        run,
        takeover,
        journal: journals.get(run.id) ?? [],
      }));
    });
  }

  heartbeat(
    workerId: string,
    held: readonly { runId: string; epoch: number }[],
    leaseMs: number,
    _now: number,
  ): Promise<string[]> {
    if (held.length === 0) return Promise.resolve([]);
    return this.use("renewing leases", READ, async (c) => {
      const kept = await query<{ id: string }>(
        c,
        `UPDATE ${this.S}.runs r SET lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond'
         FROM unnest($3::text[], $4::bigint[]) AS h(id, epoch)
         WHERE r.id = h.id AND r.epoch = h.epoch AND r.owner = $1 AND r.status = 'running'
         RETURNING r.id`,
        [workerId, leaseMs, held.map((h) => h.runId), held.map((h) => h.epoch)],
      );
      const ok = new Set(kept.map((k) => k.id));
      return held.filter((h) => !ok.has(h.runId)).map((h) => h.runId);
    });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const [row] = await this.use("reading a run", READ, (c) =>
      query<RunRow>(c, `SELECT ${RUN_COLUMNS} FROM ${this.S}.runs WHERE id = $1`, [runId]),
    );
    return row === undefined ? null : toRecord(row);
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    const [createdBefore, idBefore] = parseCursor(filter.cursor);
    const rows = await this.use("listing runs", READ, (c) =>
      query<RunRow>(
        c,
        `SELECT ${RUN_COLUMNS} FROM ${this.S}.runs
         WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
           AND ($3::bigint IS NULL OR (created_at, id) < ($3, $4::text))
         ORDER BY created_at DESC, id DESC LIMIT $5`,
        [filter.workflow ?? null, filter.status ?? null, createdBefore, idBefore, filter.limit + 1],
      ),
    );
    const more = rows.length > filter.limit;
    const page = rows.slice(0, filter.limit).map(toRecord);
    const last = page[page.length - 1];
    return { runs: page, next: more && last !== undefined ? `${last.createdAt}:${last.id}` : null };
  }

  async readJournal(runId: string): Promise<JournalEntry[]> {
    const rows = await this.use("reading a journal", READ, (c) =>
      query<EntryRow>(
        c,
        `SELECT seq, type, at, position, key, data, started_at, started_data
         FROM ${this.S}.journal WHERE run_id = $1 AND type <> '${LEASE_MARK}' ORDER BY seq`,
        [runId],
      ),
    );
    return toEntries(runId, rows);
  }

  cancel(
    runId: string,
    request: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult> {
    return this.inTransaction("cancelling a run", async (c): Promise<CancelResult> => {
      const row = await this.lockRun(c, runId);
      if (row === null) return { kind: "not_found" };
      if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
      if (row.status === "paused") {
        // A paused run cannot replay to run its cleanup: it ends here.
        const [updated] = await query<RunRow>(
          c,
          `UPDATE ${this.S}.runs SET status = 'cancelled', error = $2, updated_at = $3,
             ended_at = $3, epoch = epoch + 1, owner = NULL, lease_expires_at = NULL,
             wake_at = NULL, cancel_requested = NULL
           WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
          [runId, request.error, now],
        );
        await this.insertRows(c, runId, await this.lastSeq(c, runId), [request.entry]);
        await this.waits.cancelAll(c, runId, now);
        this.seqs.delete(runId);
        return { kind: "cancelled", run: toRecord(updated as RunRow) };
      }
      const [updated] = await query<RunRow>(
        c,
        `UPDATE ${this.S}.runs SET cancel_requested = coalesce(cancel_requested, $2),
           updated_at = $3,
           status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
           wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
         WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
        [runId, JSON.stringify(request.cancellation), now],
      );
      await this.notify(c, { workflows: [row.workflow], wakeAt: null });
      return { kind: "requested", run: toRecord(updated as RunRow) };
    });
  }

  sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    return this.inTransaction("storing an event", async (c) => {
      const result = await this.waits.sendEvent(c, event, now);
      if (result.created) await this.notify(c, ANY);
      return result;
    });
  }

  sendSignal(
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<SignalResult> {
    return this.inTransaction("sending a signal", async (c): Promise<SignalResult> => {
      const row = await this.lockRun(c, runId);
      if (row === null) return { kind: "not_found" };
      if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
      const woken = await this.waits.sendSignal(c, runId, signal, now);
      if (woken.length > 0) await this.notify(c, ANY);
      return { kind: "sent", woken };
    });
  }

  decide(runId: string, name: string, decision: DecisionInput, now: number): Promise<DecideResult> {
    return this.inTransaction("recording a decision", async (c) => {
      await this.waits.lockRuns(c, [runId]);
      const result = await this.waits.decide(c, runId, name, decision, now);
      if (result.kind === "settled") await this.notify(c, ANY);
      return result;
    });
  }

  closeWait(
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null> {
    return this.inTransaction("ending a wait", async (c) => {
      await this.waits.lockRuns(c, [runId]);
      return this.waits.close(c, runId, position, closure, now);
    });
  }

  addApprovers(runId: string, position: number, approvers: readonly string[]): Promise<void> {
    return this.inTransaction("escalating an approval", async (c) => {
      await this.waits.lockRuns(c, [runId]);
      await this.waits.addApprovers(c, runId, position, approvers);
    });
  }

  cancelWaits(runId: string, now: number): Promise<void> {
    return this.inTransaction("cancelling waits", async (c) => {
      await this.waits.lockRuns(c, [runId]);
      await this.waits.cancelAll(c, runId, now);
    });
  }

  getWait(runId: string, position: number): Promise<WaitRecord | null> {
    return this.use("reading a wait", READ, (c) => this.waits.getWait(c, runId, position));
  }

  listApprovals(filter: { limit: number; runId?: string }): Promise<ApprovalRecord[]> {
    return this.use("listing approvals", READ, (c) =>
      this.waits.listApprovals(c, filter.limit, filter.runId ?? null),
    );
  }

  inbox(runIds: readonly string[]): Promise<InboxItem[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.use("reading the inbox", READ, (c) => this.waits.inbox(c, runIds));
  }

  async cursor(name: string): Promise<number | null> {
    const [row] = await this.use("reading a cursor", READ, (c) =>
      query<{ value: number }>(c, `SELECT value FROM ${this.S}.cursors WHERE name = $1`, [name]),
    );
    return row === undefined ? null : Number(row.value);
  }

  async setCursor(name: string, value: number): Promise<void> {
    await this.use("moving a cursor", READ, (c) =>
      query(
        c,
        `INSERT INTO ${this.S}.cursors AS k (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = greatest(k.value, excluded.value)`,
        [name, value],
      ),
    );
  }

  async eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]> {
    const rows = await this.use("reading events", READ, (c) =>
      query<Parameters<typeof toEvent>[0]>(
        c,
        `SELECT pos, id, name, data, received_at FROM ${this.S}.events
         WHERE name = $1 AND pos > $2 ORDER BY pos LIMIT $3`,
        [name, afterPos, limit],
      ),
    );
    return rows.map(toEvent);
  }

  async lastEventPos(): Promise<number> {
    const [row] = await this.use("reading events", READ, (c) =>
      query<{ p: number }>(c, `SELECT coalesce(max(pos), 0) AS p FROM ${this.S}.events`),
    );
    return Number(row?.p ?? 0);
  }

  deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]> {
    return this.inTransaction("deleting finished runs", async (c) => {
      const rows = await query<{ id: string }>(
        c,
        `DELETE FROM ${this.S}.runs WHERE id IN (
           SELECT id FROM ${this.S}.runs
           WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND ended_at < $1
           ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [endedBefore, limit],
      );
      const ids = rows.map((r) => r.id);
      for (const table of ["journal", "waits", "signals", "decisions", "consumed_events"]) {
        await query(c, `DELETE FROM ${this.S}.${table} WHERE run_id = ANY($1::text[])`, [ids]);
      }
      return ids;
    });
  }

  deleteEvents(receivedBefore: number, limit: number): Promise<number> {
    return this.inTransaction("deleting events", async (c) => {
      // Events at or below the floor can be consumed by no run still going (each consumes
      // only events after its cursor) and were passed by every trigger.
      await lockKeys(c, [eventsLock(this.settings.schema)]);
      const rows = await query<{ pos: number }>(
        c,
        `WITH floor AS (
           SELECT min(f) AS f FROM (
             SELECT min(event_cursor) AS f FROM ${this.S}.runs
             WHERE status NOT IN ('completed', 'failed', 'cancelled', 'timed_out')
             UNION ALL SELECT min(value) FROM ${this.S}.cursors WHERE name LIKE 'trigger:%') m)
         DELETE FROM ${this.S}.events WHERE pos IN (
           SELECT pos FROM ${this.S}.events, floor
           WHERE received_at < $1 AND (floor.f IS NULL OR pos <= floor.f)
           ORDER BY pos LIMIT $2)
         RETURNING pos`,
        [receivedBefore, limit],
      );
      return rows.length;
    });
  }

  resume(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    return this.inTransaction("resuming a run", async (c): Promise<ResumeResult> => {
      const row = await this.lockRun(c, runId);
      if (row === null) return { kind: "not_found" };
      if (row.status !== "paused") return { kind: "not_paused", run: toRecord(row) };
      const [updated] = await query<RunRow>(
        c,
        `UPDATE ${this.S}.runs SET status = 'pending', paused_reason = NULL, recoveries = 0,
           updated_at = $2 WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
        [runId, now],
      );
      await this.insertRows(c, runId, await this.lastSeq(c, runId), [entry]);
      await this.notify(c, { workflows: [row.workflow], wakeAt: null });
      return { kind: "resumed", run: toRecord(updated as RunRow) };
    });
  }

  async nextWakeAt(): Promise<number | null> {
    const [row] = await this.use("reading timers", READ, (c) =>
      query<{ at: number | null }>(
        c,
        `SELECT min(wake_at) AS at FROM ${this.S}.runs WHERE status = 'waiting'`,
      ),
    );
    return row?.at ?? null;
  }

  async acquireRate(r: RateRequest): Promise<RateGrant> {
    // Token bucket on the database's clock (GCRA): a unit costs periodMs / limit of debt, and
    // the bucket holds at most periodMs of it. A reservation that does not fit waits its turn.
    const [row] = await this.use("reserving rate-limit units", WRITE, (c) =>
      query<{ wait_ms: number }>(
        c,
        `WITH t AS (SELECT extract(epoch FROM statement_timestamp()) * 1000 AS now_ms)
         INSERT INTO ${this.S}.rate_limits AS r (key, tat_ms, granted_at_ms)
         SELECT $1, now_ms + $2::float8, now_ms FROM t
         ON CONFLICT (key) DO UPDATE SET
           granted_at_ms = greatest((SELECT now_ms FROM t), r.tat_ms + $2::float8 - $3::float8),
           tat_ms = greatest(r.tat_ms, (SELECT now_ms FROM t)) + $2::float8
         RETURNING (granted_at_ms - (SELECT now_ms FROM t))::float8 AS wait_ms`,
        [r.key, (r.units * r.periodMs) / r.limit, r.periodMs],
      ),
    );
    return { waitMs: Math.max(0, Math.ceil(row?.wait_ms ?? 0)) };
  }

  watch(onWake: (wake: StoreWake) => void): () => void {
    if (!this.settings.listen) return () => {};
    this.listener ??= new Listener(
      () =>
        this.url === null
          ? new pg.Client((this.givenPool as pg.Pool).options)
          : new pg.Client(clientConfig(this.url, this.settings)),
      this.channel,
      () => {},
    );
    return this.listener.subscribe(onWake);
  }

  /** Resolves once wake-ups are being listened for (tests wait for it before notifying). */
  listening(): Promise<void> {
    return this.listener?.ready() ?? Promise.resolve();
  }

  // ---- internals ------------------------------------------------------------------------

  /**
   * Runs fast appends on a connection kept for them, skipping the pool's checkout on the
   * busiest path; falls back to the pool when it is in use or cannot be had.
   */
  private async withAppender<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.appending || this.pool === null) return this.use("committing", WRITE, fn);
    this.appending = true;
    try {
      if (this.appender === null) {
        try {
          const client = await this.pool.connect();
          client.on("error", () => {
            // Lost while kept: the next append fails, drops it, and the run is handed back.
          });
          this.appender = client;
        } catch {
          return await this.use("committing", WRITE, fn);
        }
      }
      const client = this.appender;
      try {
        return await fn(client);
      } catch (e) {
        if (isConnectionFailure(e)) {
          this.appender = null;
          client.release(e as Error);
        }
        throw storeError(e, this.description, "committing");
      }
    } finally {
      this.appending = false;
    }
  }

  private use<T>(doing: string, policy: RetryPolicy, fn: (c: pg.PoolClient) => Promise<T>) {
    if (this.pool === null) {
      return Promise.reject(
        storeError(new Error("the store is not open (call open() first)"), this.description, doing),
      );
    }
    return withClient(this.pool, this.settings.reconnectMs, this.description, doing, policy, fn);
  }

  private inTransaction<T>(doing: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.use(doing, WRITE, async (c) => {
      await c.query("BEGIN");
      try {
        const result = await fn(c);
        await c.query("COMMIT");
        return result;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }

  /**
   * The fast commit of a batch that only appends to runs this process holds (every step of a
   * running workflow): one plain INSERT, numbered after the cached last seq of each run. It
   * needs no lock: a claim that took one of these runs wrote a row at that run's next seq in
   * its transaction (claim.ts, LEASE_MARK), so the first late append collides with it on the
   * primary key and the whole INSERT fails; the batch then goes the fenced way, which reports
   * that run fenced and commits the others. Null when the batch does not qualify.
   */
  private async commitAppends(batch: CommitBatch): Promise<CommitResult | null> {
    if (batch.creates.length > 0 || batch.writes.length === 0) return null;
    const bases: number[] = [];
    for (const w of batch.writes) {
      const base = this.cachedSeq(w);
      if (base === null || w.update !== null || (w.waits?.length ?? 0) > 0) return null;
      bases.push(base);
    }
    const cols: unknown[][] = Array.from({ length: 9 }, () => []);
    const next = new Map<string, number>();
    batch.writes.forEach((w, i) => {
      let seq = bases[i] ?? 0;
      for (const row of toRows(w.entries)) {
        const values = [w.runId, ++seq, row.type, row.at, row.position, row.key, row.data];
        values.push(row.started_at, row.started_data);
        values.forEach((v, k) => cols[k]?.push(v));
      }
      next.set(w.runId, seq);
    });
    const columns = `INSERT INTO ${this.S}.journal (run_id, seq, type, at, position, key, data,
       started_at, started_data)`;
    // One row (a lone step) as plain values: parsing one-element arrays costs more than it.
    const single = cols[0]?.length === 1;
    try {
      await this.withAppender((c) =>
        single
          ? query(
              c,
              `${columns} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
              cols.map((col) => col[0]),
              `endure_append1_${this.settings.schema}`,
            )
          : query(
              c,
              `${columns} SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[],
                 $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[])`,
              cols,
              `endure_append_${this.settings.schema}`,
            ),
      );
    } catch (e) {
      for (const w of batch.writes) this.seqs.delete(w.runId);
      if (codeOf(e) === UNIQUE_VIOLATION) return null;
      throw e;
    }
    for (const w of batch.writes) this.remember(w.runId, w.epoch, next.get(w.runId) ?? 0);
    return { creates: [], writes: batch.writes.map(() => ({ kind: "committed" })) };
  }

  /** Tells listening workers, when this transaction commits, that runs may be runnable. */
  private async notify(c: pg.ClientBase, wake: StoreWake): Promise<void> {
    await query(c, "SELECT pg_notify($1, $2)", [this.channel, JSON.stringify(wake)]);
  }

  /**
   * A commit that creates waits or puts runs to sleep, in one transaction: the event names of
   * new event waits are locked first (an event sent meanwhile is then seen by the wait, or
   * sees it); the batch statement locks the runs; waits are created, ending at once those an
   * earlier event or signal meets; then a run going to sleep whose wait ended (by this batch,
   * or by an event that committed while we waited for the run's lock) is left runnable.
   */
  private async commitWithWaits(
    c: pg.PoolClient,
    batch: CommitBatch,
    statement: CommitStatement,
  ): Promise<CommitRow[]> {
    const names = batch.writes.flatMap((w) =>
      (w.waits ?? []).filter((x) => x.kind === "event").map((x) => x.target),
    );
    await c.query("BEGIN");
    try {
      await lockKeys(
        c,
        names.map((n) => eventNameLock(this.settings.schema, n)),
      );
      const rows = await query<CommitRow>(c, statement.text, statement.values, statement.name);
      const landed = new Set((rows[0]?.written ?? []).map(([id]) => id));
      for (const w of batch.writes) {
        if (landed.has(w.runId) && (w.waits?.length ?? 0) > 0)
          await this.waits.create(c, w.runId, w.waits ?? [], batch.now);
      }
      const sleeping = batch.writes
        .filter((w) => landed.has(w.runId) && w.update?.status === "waiting")
        .map((w) => w.runId);
      if (sleeping.length > 0) {
        await query(
          c,
          `UPDATE ${this.S}.runs r SET status = 'pending', wake_at = NULL
           WHERE r.id = ANY($1::text[]) AND r.status = 'waiting' AND (
             r.cancel_requested IS NOT NULL OR EXISTS (
               SELECT 1 FROM ${this.S}.waits wt
               WHERE wt.run_id = r.id AND wt.status NOT IN ('open', 'cancelled')
                 AND NOT EXISTS (SELECT 1 FROM ${this.S}.journal j WHERE j.run_id = wt.run_id
                                   AND j.position = wt.position AND j.type = 'wait_completed')))`,
          [sleeping],
        );
      }
      await c.query("COMMIT");
      return rows;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  }

  private async lockRun(c: pg.PoolClient, runId: string): Promise<RunRow | null> {
    const [row] = await query<RunRow>(
      c,
      `SELECT ${RUN_COLUMNS} FROM ${this.S}.runs WHERE id = $1 FOR UPDATE`,
      [runId],
    );
    return row ?? null;
  }

  private async lastSeq(c: pg.PoolClient, runId: string): Promise<number> {
    const [row] = await query<{ s: number | null }>(
      c,
      `SELECT max(seq) AS s FROM ${this.S}.journal WHERE run_id = $1`,
      [runId],
    );
    return row?.s ?? 0;
  }

  /** The journals of several runs in one query. */
  private async readJournals(
    c: pg.PoolClient,
    runIds: readonly string[],
  ): Promise<Map<string, JournalEntry[]>> {
    const journals = new Map<string, JournalEntry[]>();
    if (runIds.length === 0) return journals;
    const rows = await query<EntryRow & { run_id: string }>(
      c,
      `SELECT run_id, seq, type, at, position, key, data, started_at, started_data
       FROM ${this.S}.journal WHERE run_id = ANY($1::text[]) AND type <> '${LEASE_MARK}'
       ORDER BY run_id, seq`,
      [[...runIds]],
    );
    const byRun = new Map<string, EntryRow[]>();
    for (const row of rows) {
      let list = byRun.get(row.run_id);
      if (list === undefined) byRun.set(row.run_id, (list = []));
      list.push(row);
    }
    for (const [runId, list] of byRun) journals.set(runId, toEntries(runId, list));
    return journals;
  }

  /** Appends entries after `seq`; returns the last seq written. */
  private async insertRows(
    c: pg.PoolClient,
    runId: string,
    seq: number,
    entries: readonly NewEntry[],
  ): Promise<number> {
    const rows = toRows(entries);
    if (rows.length === 0) return seq;
    await query(
      c,
      `INSERT INTO ${this.S}.journal (run_id, seq, type, at, position, key, data, started_at, started_data)
       SELECT $1, $2 + e.n, e.type, e.at, e.pos, e.key, e.data, e.sat, e.sdata
       FROM unnest($3::text[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[])
         WITH ORDINALITY AS e(type, at, pos, key, data, sat, sdata, n)`,
      [
        runId,
        seq,
        rows.map((r) => r.type),
        rows.map((r) => r.at),
        rows.map((r) => r.position),
        rows.map((r) => r.key),
        rows.map((r) => r.data),
        rows.map((r) => r.started_at),
        rows.map((r) => r.started_data),
      ],
    );
    return seq + rows.length;
  }

  private cachedSeq(write: RunWrite): number | null {
    const cached = this.seqs.get(write.runId);
    return cached?.epoch === write.epoch ? cached.seq : null;
  }

  private remember(runId: string, epoch: number, seq: number): void {
    if (this.seqs.size >= SEQ_CACHE_RUNS_MAX && !this.seqs.has(runId)) this.seqs.clear();
    this.seqs.set(runId, { epoch, seq });
  }

  private async createResults(
    batch: CommitBatch,
    row: CommitRow | undefined,
  ): Promise<CreateResult[]> {
    const created = new Map((row?.created ?? []).map((r) => [r.id, r]));
    const existing = new Map((row?.existing ?? []).map((r) => [r.id, r]));
    const seen = new Set<string>();
    const results: CreateResult[] = [];
    for (const c of batch.creates) {
      const mine = created.get(c.id);
      if (mine !== undefined && !seen.has(c.id)) {
        seen.add(c.id);
        if (c.claim !== null) this.remember(c.id, 1, 1);
        results.push({ created: true, run: toRecord(mine) });
        continue;
      }
      // Created by another session after this statement began: read it now.
      const other = mine ?? existing.get(c.id);
      const run = other === undefined ? await this.getRun(c.id) : toRecord(other);
      if (run === null) throw storeError(new Error(`run ${c.id} vanished`), this.description, "");
      results.push({ created: false, run });
    }
    return results;
  }

  private writeResults(writes: readonly RunWrite[], row: CommitRow | undefined): WriteResult[] {
    const written = new Map(row?.written ?? []);
    return writes.map((w): WriteResult => {
      const base = written.get(w.runId);
      if (base === undefined) {
        this.seqs.delete(w.runId);
        return { kind: "fenced" };
      }
      if (w.update === null) this.remember(w.runId, w.epoch, base + rowCount(w));
      else this.seqs.delete(w.runId);
      return { kind: "committed" };
    });
  }
}

function parseCursor(cursor: string | undefined): [number | null, string | null] {
  if (cursor === undefined) return [null, null];
  const i = cursor.indexOf(":");
  const at = Number(cursor.slice(0, i));
  return i > 0 && Number.isFinite(at) ? [at, cursor.slice(i + 1)] : [null, null];
}
