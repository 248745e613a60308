// The PostgreSQL store: many workers on many machines share one database. A step's commit is
// one INSERT; other group commits are one statement each; claims skip locked rows; leases and
// rate limits use the database's clock; LISTEN/NOTIFY wakes idle workers.
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
import { EpochCache } from "../epoch-cache.js";
import type { StoredChunk } from "../stream.js";
import { claimRuns } from "./claim.js";
import { buildCommit, hasUsage, rowCount, sumUsage, type CommitRow } from "./commit.js";
import { commitWithWaits } from "./commit-with-waits.js";
import { clientConfig, createPool, query, withClient, type RetryPolicy } from "./connection.js";
import { isConnectionFailure, redactUrl, storeError } from "./errors.js";
import { appendRows, insertRows, readJournal, readJournals } from "./journal-io.js";
import { Listener } from "./listener.js";
import { migrate, type MigrationReport } from "./migrate.js";
import * as admin from "./run-admin.js";
import {
  cursorOf,
  parseCursor,
  RUN_COLUMNS,
  toRunRecord as toRecord,
  type RunRow,
} from "../sql-rows.js";
import { quoteIdent } from "./schema.js";
import { settingsOf, type PostgresSettings, type PostgresStoreOptions } from "./settings.js";
import { createSqlTransaction } from "./sql-transaction.js";
import { PostgresWaits } from "./waits.js";

const READ: RetryPolicy = { idempotent: true };
const WRITE: RetryPolicy = { idempotent: false };

/** A wake-up for any worker: runs may be runnable, and held runs may have news. */
const ANY: StoreWake = { workflows: null, wakeAt: null };

/** SQLSTATE of a unique violation: a fast append met a lease mark (its run was taken). */
const UNIQUE_VIOLATION = "23505";

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
  /** Last journal seq of runs this process writes under a lease. */
  private readonly seqs = new EpochCache();

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
      client.on("error", () => {}); // a lost connection fails the migration's query instead
    } catch (e) {
      if (this.givenPool === null) await pool.end().catch(() => undefined);
      throw storeError(e, this.description, "opening it");
    }
    try {
      const { schema, migrate: apply } = this.settings;
      this.migration = await migrate(client, schema, this.description, apply);
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
    this.seqs.forget();
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
      (w) => this.seqs.get(w.runId, w.epoch),
      this.channel,
      this.settings.streamPartsMax,
    );
    // Waits, and runs going to sleep, need more than the one statement (commit-with-waits.ts).
    const simple = batch.writes.every(
      (w) => (w.waits?.length ?? 0) === 0 && w.update?.status !== "waiting",
    );
    let row: CommitRow | undefined;
    try {
      [row] = await this.use("committing", WRITE, (c) =>
        simple
          ? query<CommitRow>(c, statement.text, statement.values, statement.name)
          : commitWithWaits(c, this.S, this.settings.schema, this.waits, batch, statement),
      );
    } catch (e) {
      // The outcome is unknown: cached sequence numbers may be ahead of the journal.
      for (const w of batch.writes) this.seqs.forget(w.runId);
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
          this.seqs.forget(runId);
          return { kind: "fenced" } as const;
        }
        let seq = this.seqs.get(runId, epoch) ?? fence.last ?? 0;
        seq = await insertRows(client, this.S, runId, seq, before);
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
        seq = await insertRows(client, this.S, runId, seq, entries);
        const used = sumUsage([...before, ...entries]);
        await query(
          client,
          `UPDATE ${this.S}.runs SET updated_at = $2, input_tokens = input_tokens + $3,
             output_tokens = output_tokens + $4, cost_usd = cost_usd + $5,
             metered_calls = metered_calls + $6
           WHERE id = $1`,
          [runId, now, used.inputTokens, used.outputTokens, used.costUsd, used.calls],
        );
        await client.query("COMMIT");
        this.seqs.set(runId, epoch, seq);
        return { kind: "committed" } as const;
      } catch (e) {
        end?.();
        this.seqs.forget(runId);
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
      for (const { run, markSeq } of claimed) this.seqs.set(run.id, run.epoch, markSeq);
      const ids = claimed.map((x) => x.run.id);
      const journals = await readJournals(c, this.S, ids);
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
        `UPDATE ${this.S}.runs r
         SET lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond'
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
    return { runs: page, next: more && last !== undefined ? cursorOf(last) : null };
  }

  readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]> {
    return this.use("reading an output stream", READ, (c) =>
      query<StoredChunk>(
        c,
        `SELECT seq AS "offset", at, data FROM ${this.S}.stream
         WHERE run_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
        [runId, fromOffset, limit],
      ),
    );
  }

  readJournal(runId: string): Promise<JournalEntry[]> {
    return this.use("reading a journal", READ, (c) => readJournal(c, this.S, runId));
  }

  cancel(
    runId: string,
    request: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult> {
    return this.inTransaction("cancelling a run", async (c) => {
      const result = await admin.cancelRun(
        c,
        this.S,
        this.channel,
        this.waits,
        runId,
        request,
        now,
      );
      if (result.kind === "cancelled") this.seqs.forget(runId);
      return result;
    });
  }

  resume(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    return this.inTransaction("resuming a run", (c) =>
      admin.resumeRun(c, this.S, this.channel, runId, entry, now),
    );
  }

  sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    return this.inTransaction("storing an event", async (c) => {
      const result = await this.waits.sendEvent(c, event, now);
      if (result.created) await admin.notify(c, this.channel, ANY);
      return result;
    });
  }

  sendSignal(
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<SignalResult> {
    return this.inTransaction("sending a signal", async (c): Promise<SignalResult> => {
      const row = await admin.lockRun(c, this.S, runId);
      if (row === null) return { kind: "not_found" };
      if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
      const woken = await this.waits.sendSignal(c, runId, signal, now);
      if (woken.length > 0) await admin.notify(c, this.channel, ANY);
      return { kind: "sent", woken };
    });
  }

  decide(runId: string, name: string, decision: DecisionInput, now: number): Promise<DecideResult> {
    return this.inTransaction("recording a decision", async (c) => {
      await this.waits.lockRuns(c, [runId]);
      const result = await this.waits.decide(c, runId, name, decision, now);
      if (result.kind === "settled") await admin.notify(c, this.channel, ANY);
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

  cursor(name: string): Promise<number | null> {
    return this.use("reading a cursor", READ, (c) => admin.readCursor(c, this.S, name));
  }

  setCursor(name: string, value: number): Promise<void> {
    return this.use("moving a cursor", READ, (c) => admin.moveCursor(c, this.S, name, value));
  }

  eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]> {
    return this.use("reading events", READ, (c) =>
      admin.readEventsAfter(c, this.S, name, afterPos, limit),
    );
  }

  lastEventPos(): Promise<number> {
    return this.use("reading events", READ, (c) => admin.readLastEventPos(c, this.S));
  }

  deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]> {
    return this.inTransaction("deleting finished runs", (c) =>
      admin.deleteFinishedRuns(c, this.S, endedBefore, limit),
    );
  }

  deleteEvents(receivedBefore: number, limit: number): Promise<number> {
    return this.inTransaction("deleting events", (c) =>
      admin.deleteEvents(c, this.S, this.settings.schema, receivedBefore, limit),
    );
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
    const waitMs = await this.use("reserving rate-limit units", WRITE, (c) =>
      admin.reserveRate(c, this.S, r),
    );
    return { waitMs };
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
      const base = this.seqs.get(w.runId, w.epoch);
      if (base === null || w.update !== null || (w.waits?.length ?? 0) > 0) return null;
      if ((w.chunks?.length ?? 0) > 0 || hasUsage(w)) return null;
      bases.push(base);
    }
    let next: Map<string, number>;
    try {
      next = await this.withAppender((c) =>
        appendRows(c, this.S, this.settings.schema, batch.writes, bases),
      );
    } catch (e) {
      for (const w of batch.writes) this.seqs.forget(w.runId);
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (code === UNIQUE_VIOLATION) return null;
      throw e;
    }
    for (const w of batch.writes) this.seqs.set(w.runId, w.epoch, next.get(w.runId) ?? 0);
    return { creates: [], writes: batch.writes.map(() => ({ kind: "committed" })) };
  }

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
        if (c.claim !== null) this.seqs.set(c.id, 1, 1);
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
        this.seqs.forget(w.runId);
        return { kind: "fenced" };
      }
      if (w.update === null) this.seqs.set(w.runId, w.epoch, base + rowCount(w));
      else this.seqs.forget(w.runId);
      return { kind: "committed" };
    });
  }
}
