// The PostgreSQL store: many workers on many machines share one database. A step's commit is
// one INSERT; other group commits are one statement each; claims skip locked rows; leases and
// rate limits use the database's clock; LISTEN/NOTIFY wakes idle workers.
import pg from "pg";
import { EndureError, InvalidArgumentError } from "../../core/errors.js";
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
  DecideResult,
  DecisionInput,
  EventInput,
  EventRecord,
  InboxItem,
  JournalRange,
  MemoryChange,
  MemoryFilter,
  MemoryNamespaceRecord,
  MemoryRecord,
  MemoryTx,
  PayloadOpener,
  RateGrant,
  RateRequest,
  ResumeResult,
  RunCreate,
  CreateResult,
  RunFilter,
  RunPage,
  RunRecord,
  SendEventResult,
  SignalResult,
  Store,
  StoreWake,
  WaitRecord,
  WaitRef,
  WriteResult,
} from "../store.js";
import { EpochCache } from "../epoch-cache.js";
import type { StoredChunk } from "../stream.js";
import { claimRuns, renewLeases } from "./claim.js";
import { clientConfig, createPool, query, withClient, type RetryPolicy } from "./connection.js";
import { redactUrl, storeError } from "./errors.js";
import { FastAppends } from "./fast-append.js";
import { groupCommit, type CommitParts } from "./group-commit.js";
import { readJournal, readJournals } from "./journal-io.js";
import { Listener } from "./listener.js";
import { migrate, type MigrationReport } from "./migrate.js";
import * as admin from "./run-admin.js";
import { StorePayloads, toRunRecord as toRecord } from "../sql-rows.js";
import { readNextWakeAt, readRun, readRunPage, readStreamRows } from "./run-reads.js";
import { quoteIdent } from "./schema.js";
import {
  BEGIN_BOUNDED,
  settingsOf,
  type PostgresSettings,
  type PostgresStoreOptions,
} from "./settings.js";
import { runTransactionalStep } from "./transactional-step.js";
import * as memory from "./memory.js";
import * as keys from "./run-keys.js";
import type { RunKeyStore } from "../run-keys.js";
import { PostgresWaits } from "./waits.js";
import { eventNameLock, EventStatements, sendEvents, ShapeCache } from "./events.js";
import { EventQueue } from "../event-queue.js";

/** Event batches one store commits at once: calls made meanwhile share the next batch (with
 * 8 callers, one batch at a time stored the most events per second). */
const EVENT_BATCHES_IN_FLIGHT_MAX = 1;

const READ: RetryPolicy = { idempotent: true };
const WRITE: RetryPolicy = { idempotent: false };

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
  private readonly S: string;
  private readonly channel: string;
  private readonly waits: PostgresWaits;
  /** Last journal seq of runs this process writes under a lease. */
  private readonly seqs = new EpochCache();
  private readonly commitParts: CommitParts;
  private readonly appends: FastAppends;
  private readonly shapes = new ShapeCache();
  private readonly events: EventQueue;
  private readonly payloads = new StorePayloads();

  constructor(urlOrPool: string | pg.Pool, options: PostgresStoreOptions = {}) {
    this.settings = settingsOf(options);
    this.url = typeof urlOrPool === "string" ? urlOrPool : null;
    this.givenPool = typeof urlOrPool === "string" ? null : urlOrPool;
    if (this.givenPool !== null && this.settings.readOnly) {
      throw new InvalidArgumentError(
        "postgresStore readOnly needs a connection URL, not a pool: it makes the connections " +
          "the store opens read-only (for a pool of your own, set default_transaction_read_only " +
          "on its connections)",
      );
    }
    const where = this.url === null ? "a PostgreSQL pool" : redactUrl(this.url);
    this.description = `${where} (schema ${this.settings.schema})`;
    this.S = quoteIdent(this.settings.schema);
    this.channel = `endure_wake_${this.settings.schema}`;
    this.waits = new PostgresWaits(this.S, this.settings.schema, this.payloads);
    this.commitParts = {
      S: this.S,
      schema: this.settings.schema,
      channel: this.channel,
      description: this.description,
      waits: this.waits,
      shapes: this.shapes,
      seqs: this.seqs,
      streamPartsMax: this.settings.streamPartsMax,
      pool: () => this.pool,
      usePool: (fn) => this.use("committing", WRITE, fn),
      getRun: (runId) => this.getRun(runId),
    };
    this.appends = new FastAppends(this.commitParts);
    const statements = new EventStatements(this.S, this.settings.schema);
    this.events = new EventQueue(
      (batch) =>
        this.use("storing an event", WRITE, (c) =>
          sendEvents(
            c,
            statements,
            this.settings.schema,
            this.shapes,
            this.channel,
            batch,
            this.payloads,
          ),
        ),
      EVENT_BATCHES_IN_FLIGHT_MAX,
    );
  }

  readonly runKeys: RunKeyStore = {
    put: (list, now) =>
      this.inTransaction("storing run keys", (c) => keys.putRunKeys(c, this.S, list, now)),
    read: (runIds) =>
      this.use("reading run keys", READ, (c) => keys.readRunKeys(c, this.S, runIds)),
    shred: async (runId, now) => {
      const result = await this.inTransaction("shredding a run", (c) =>
        keys.shredRun(c, this.S, runId, now),
      );
      // The old row version, key and all, stays in the table's pages until vacuumed.
      if (result.kind === "shredded")
        await this.use("shredding a run", WRITE, (c) => query(c, `VACUUM ${this.S}.run_keys`));
      return result;
    },
    list: (afterRunId, limit) =>
      this.use("listing run keys", READ, (c) => keys.listRunKeys(c, this.S, afterRunId, limit)),
    rewrap: (runId, from, to) =>
      this.use("rewrapping a run key", WRITE, (c) => keys.rewrapRunKey(c, this.S, runId, from, to)),
  };

  usePayloadOpener(open: PayloadOpener): void {
    this.payloads.open = open;
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
    this.appends.release();
    this.seqs.forget();
    if (pool !== null && this.givenPool === null) await pool.end();
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    if (batch.creates.length === 0 && batch.writes.length === 0) return { creates: [], writes: [] };
    const fast = await this.appends.commit(batch);
    if (fast !== null) return fast;
    return groupCommit(this.commitParts, batch);
  }

  async transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    const schema = this.settings.schema;
    const result = await this.use("running a transactional step", WRITE, (client) =>
      runTransactionalStep(client, this.S, this.seqs, { runId, epoch, now, before, body, schema }),
    );
    if ("error" in result) throw result.error;
    return result;
  }

  async memoryTransaction<T>(body: (memory: MemoryTx) => Promise<T>): Promise<T> {
    // A throw of the body comes back as `{ error }`: `use` would make it a store error.
    const result = await this.use("writing memory", WRITE, async (c) => {
      await c.query(BEGIN_BOUNDED);
      const handle = memory.memoryTx(c, this.S, this.settings.schema);
      const end = handle.end;
      let value: T;
      try {
        value = await body(handle.memory);
      } catch (error) {
        end();
        await c.query("ROLLBACK").catch(() => undefined);
        return { error };
      }
      end();
      try {
        await c.query("COMMIT");
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
      return { value };
    });
    if ("error" in result) throw result.error;
    return result.value;
  }

  readMemory(namespace: string, key: string): Promise<MemoryRecord | null> {
    return this.use("reading memory", READ, (c) => memory.readMemory(c, this.S, namespace, key));
  }

  listMemory(filter: MemoryFilter): Promise<MemoryRecord[]> {
    return this.use("listing memory", READ, (c) => memory.listMemory(c, this.S, filter));
  }

  listMemoryNamespaces(): Promise<MemoryNamespaceRecord[]> {
    return this.use("listing memory namespaces", READ, (c) =>
      memory.listMemoryNamespaces(c, this.S),
    );
  }

  memoryHistory(namespace: string, key: string, limit: number): Promise<MemoryChange[]> {
    return this.use("reading memory history", READ, (c) =>
      memory.memoryHistory(c, this.S, namespace, key, limit),
    );
  }

  deleteMemory(namespace: string, updatedBefore: number, limit: number): Promise<number> {
    return this.use("deleting memory", WRITE, (c) =>
      memory.deleteMemory(c, this.S, namespace, updatedBefore, limit),
    );
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
    return this.use("renewing leases", READ, (c) =>
      renewLeases(c, this.S, workerId, held, leaseMs),
    );
  }

  getRun(runId: string): Promise<RunRecord | null> {
    return this.use("reading a run", READ, (c) => readRun(c, this.S, runId));
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return this.use("listing runs", READ, (c) => readRunPage(c, this.S, filter));
  }

  readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]> {
    return this.use("reading an output stream", READ, (c) =>
      readStreamRows(c, this.S, runId, fromOffset, limit),
    );
  }

  readJournal(runId: string, range?: JournalRange): Promise<JournalEntry[]> {
    return this.use("reading a journal", READ, (c) => readJournal(c, this.S, runId, range));
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

  resume(
    runId: string,
    entry: NewEntry,
    now: number,
    options: { readonly version?: string | null } = {},
  ): Promise<ResumeResult> {
    return this.inTransaction("resuming a run", (c) =>
      admin.resumeRun(c, this.S, this.channel, runId, entry, now, options.version),
    );
  }

  retry(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    return this.inTransaction("retrying a run", (c) =>
      admin.retryRun(c, this.S, this.channel, runId, entry, now),
    );
  }

  rewind(
    runId: string,
    request: { readonly entry: NewEntry; readonly fromPosition: number },
    now: number,
  ): Promise<ResumeResult> {
    return this.inTransaction("rewinding a run", async (c) => {
      const result = await admin.rewindRun(c, this.S, this.channel, runId, request, now);
      if (result.kind === "resumed") this.seqs.forget(runId);
      return result;
    });
  }

  fork(create: RunCreate, entries: readonly NewEntry[], now: number): Promise<CreateResult> {
    return this.inTransaction("forking a run", (c) =>
      admin.forkRun(c, this.S, this.channel, create, entries, now),
    );
  }

  sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    return this.events.add(event, now);
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

  withdrawWait(runId: string, position: number, now: number): Promise<WaitRef[]> {
    return this.inTransaction("withdrawing a wait", async (c) => {
      // The run's row lock is enough: an event delivered to the run meanwhile locks it too,
      // and an event given back goes to a wait of this run only.
      await this.waits.lockRuns(c, [runId]);
      return this.waits.withdraw(c, runId, position, now);
    });
  }

  cancelChildren(parentId: string, cancellation: Cancellation, now: number): Promise<string[]> {
    return this.inTransaction("cancelling child runs", async (c) => {
      const ids = await this.waits.cancelChildren(c, parentId, cancellation, now);
      if (ids.length > 0) await admin.notify(c, this.channel, ANY);
      return ids;
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
    // Under the name's lock, exclusive: no event of the name is between taking its number
    // and committing, so none is numbered below what this reads and seen later.
    return this.inTransaction(
      "reading events",
      (c) => admin.readEventsAfter(c, this.S, name, afterPos, limit),
      (c) =>
        `SELECT pg_advisory_xact_lock(hashtextextended(${c.escapeLiteral(eventNameLock(this.settings.schema, name))}, 0))`,
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
      admin.deleteEvents(c, this.S, receivedBefore, limit),
    );
  }

  nextWakeAt(): Promise<number | null> {
    return this.use("reading timers", READ, (c) => readNextWakeAt(c, this.S));
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

  private use<T>(doing: string, policy: RetryPolicy, fn: (c: pg.PoolClient) => Promise<T>) {
    if (this.pool === null) {
      return Promise.reject(
        storeError(new Error("the store is not open (call open() first)"), this.description, doing),
      );
    }
    return withClient(this.pool, this.settings.reconnectMs, this.description, doing, policy, fn);
  }

  /**
   * Runs `fn` in one of endure's own transactions. `opening` gives statements (values quoted)
   * sent with the BEGIN in one round trip; `fn` gets the first row of the last one.
   */
  private inTransaction<T>(
    doing: string,
    fn: (c: pg.PoolClient, opened: unknown) => Promise<T>,
    opening?: (c: pg.PoolClient) => string,
  ): Promise<T> {
    return this.use(doing, WRITE, async (c) => {
      const began = (await c.query(
        opening === undefined ? BEGIN_BOUNDED : `${BEGIN_BOUNDED};\n${opening(c)}`,
      )) as unknown as pg.QueryResult[];
      try {
        const result = await fn(c, began.at(-1)?.rows[0]);
        await c.query("COMMIT");
        return result;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }
}
