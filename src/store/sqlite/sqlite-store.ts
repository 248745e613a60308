// The embedded store: one SQLite file in WAL mode, written through one connection.
import { SQLITE_BUSY_TIMEOUT_MS_DEFAULT } from "./limits.js";
import Database from "better-sqlite3";
import { InvalidArgumentError } from "../../core/errors.js";
import type { JournalEntry, NewEntry } from "../../core/journal.js";
import { STREAM_PARTS_MAX_DEFAULT } from "../../core/limits.js";
import type { WaitClosure } from "../../core/run-port.js";
import { TERMINAL_STATUSES, type Cancellation, type SqlTransaction } from "../../core/types.js";
import type {
  ApprovalRecord,
  CancelResult,
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
  SendEventResult,
  SignalResult,
  WaitRecord,
  WaitRef,
  ClaimedRun,
  ClaimRequest,
  CommitBatch,
  CommitResult,
  RateGrant,
  RateRequest,
  ResumeResult,
  RunCreate,
  CreateResult,
  RunFilter,
  RunPage,
  PayloadOpener,
  RunRecord,
  Store,
  WriteResult,
} from "../store.js";
import { reserveUnits } from "../flow-control.js";
import { storeError } from "./errors.js";
import { openDatabase } from "./open.js";
import { forgetWorker, ownerAlive, rememberWorker } from "./owner-liveness.js";
import { createStatements, runListQuery, type Statements } from "./statements.js";
import { createSqlTransaction } from "./sql-transaction.js";
import { SqliteOutputStream } from "./output-stream.js";
import { claimRuns } from "./claim.js";
import { SqliteJournalWriter } from "./journal-writer.js";
import { EventQueue, type QueuedEvent } from "../event-queue.js";
import type { StoredChunk } from "../stream.js";
import {
  DELETED_EVENTS_CURSOR,
  cursorOf,
  parseCursor,
  StorePayloads,
  toEntries,
  toRunRecord as toRecord,
  type EntryRow,
  type RunRow,
} from "../sql-rows.js";
import { createSqliteWaits, type SqliteWaits } from "./sqlite-waits.js";
import { SqliteMemory } from "./sqlite-memory.js";
import { SqliteRunKeys } from "./sqlite-run-keys.js";
import type { RunKeyStore } from "../run-keys.js";

/** How durable a commit is once it returns. */
export type SqliteDurability = "fsync" | "process";

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `"fsync"` (default): every commit is on disk before the engine goes on, safe against
   * power loss. `"process"`: commits survive a crash of the process but not of the machine;
   * much faster per commit.
   */
  durability?: SqliteDurability;
  /**
   * Take over a run at once when the process holding its lease is gone (default true).
   * Turn off when processes in different pid namespaces (containers) share the file.
   */
  pidTakeover?: boolean;
  /** How long a statement waits for another process's write lock, in ms. Default 5,000. */
  busyTimeoutMs?: number;
  /** Parts a run's output stream holds (default 1,000,000); see STREAM_PARTS_MAX_DEFAULT. */
  streamPartsMax?: number;
  /**
   * What `open()` checks of the file: `"quick"` (default) runs SQLite's quick check, which
   * reads every page (about a second per GB) and refuses a damaged file with
   * `store_corrupt` before anything is written into it; `"none"` skips it (for very large
   * files checked otherwise).
   */
  checkOnOpen?: "quick" | "none";
  /**
   * Open an existing store for reading only (default false): no migration is applied and
   * every write fails with `store_read_only`. A file on an older schema is refused with
   * `store_outdated`. `endure check` opens stores so.
   */
  readOnly?: boolean;
}

/** The SQLite implementation of {@link Store}. Create it with {@link sqliteStore}. */
export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly description: string;
  private db: Database.Database | null = null;
  private reader: Database.Database | null = null;
  private st!: Statements;
  /** Prepared run-list queries, one per combination of filters (at most 32). */
  private readonly listStatements = new Map<string, Database.Statement>();
  private streams!: SqliteOutputStream;
  private waits!: SqliteWaits;
  /** Stores events (in a savepoint when inside a transaction). */
  private eventsTx!: Database.Transaction<(taken: readonly QueuedEvent[]) => SendEventResult[]>;
  /** Runs a function inside a transaction; prepared once, since wrapping is not free. */
  private inTransaction!: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly options: Required<SqliteStoreOptions>;
  private lock: Promise<void> = Promise.resolve();
  private locked = false;
  /** When the current holder of the write connection took it (performance.now()). */
  private lockedAtMs = 0;
  private readonly workers = new Set<string>();
  private journal!: SqliteJournalWriter;
  private memory!: SqliteMemory;
  private keys!: SqliteRunKeys;
  private readonly payloads = new StorePayloads();
  /** Events sent while one is being committed share the next transaction and its fsync. */
  private readonly events = new EventQueue(
    (batch) =>
      this.exclusive(() =>
        this.writeTx("storing an event", () =>
          batch.map(({ event, now }) => this.waits.sendEvent(event, now)),
        ),
      ),
    1,
  );

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.description = `sqlite:${path}`;
    this.options = {
      durability: options.durability ?? "fsync",
      pidTakeover: options.pidTakeover ?? true,
      busyTimeoutMs: options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS_DEFAULT,
      streamPartsMax: options.streamPartsMax ?? STREAM_PARTS_MAX_DEFAULT,
      checkOnOpen: options.checkOnOpen ?? "quick",
      readOnly: options.readOnly ?? false,
    };
    if (this.options.checkOnOpen !== "quick" && this.options.checkOnOpen !== "none") {
      throw new InvalidArgumentError(
        `sqliteStore checkOnOpen must be "quick" or "none", got ${JSON.stringify(options.checkOnOpen)}`,
      );
    }
    const max = this.options.streamPartsMax;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(
        `sqliteStore streamPartsMax must be a whole number of at least 1, got ${String(max)}`,
      );
    }
  }

  usePayloadOpener(open: PayloadOpener): void {
    this.payloads.open = open;
  }

  readonly runKeys: RunKeyStore = {
    put: (keys, now) =>
      this.exclusive(() => this.writeTx("storing run keys", () => this.keys.put(keys, now))),
    read: (runIds) => Promise.resolve(this.read("reading run keys", () => this.keys.read(runIds))),
    shred: (runId, now) =>
      this.exclusive(() => {
        const result = this.writeTx("shredding a run", () => this.keys.shred(runId, now));
        if (result.kind === "shredded") this.run("shredding a run", () => this.keys.truncateLog());
        return result;
      }),
    list: (afterRunId, limit) =>
      Promise.resolve(this.read("listing run keys", () => this.keys.list(afterRunId, limit))),
    rewrap: (runId, from, to) =>
      this.exclusive(() =>
        this.writeTx("rewrapping a run key", () => this.keys.rewrap(runId, from, to)),
      ),
  };

  open(): Promise<void> {
    if (this.db !== null) return Promise.resolve();
    const { writer, reader } = openDatabase(this.path, this.options);
    this.db = writer;
    this.reader = reader;
    const pidTakeover = this.options.pidTakeover;
    writer.function(
      "endure_owner_alive",
      { deterministic: false },
      (owner: unknown, pid: unknown) =>
        !pidTakeover || ownerAlive(owner as string | null, pid as number | null) ? 1 : 0,
    );
    this.st = createStatements(writer, reader);
    this.streams = new SqliteOutputStream(writer, reader, this.options.streamPartsMax);
    this.waits = createSqliteWaits(writer, this.payloads);
    this.journal = new SqliteJournalWriter(this.st, this.streams, this.waits, (w) =>
      this.remember(w),
    );
    this.inTransaction = writer.transaction((fn: () => unknown) => fn());
    this.memory = new SqliteMemory(writer, reader);
    this.keys = new SqliteRunKeys(writer, reader);
    // Inside another transaction, a savepoint.
    this.eventsTx = writer.transaction((taken: readonly QueuedEvent[]) =>
      taken.map(({ event, now }) => this.waits.sendEvent(event, now)),
    );
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.exclusive(() => undefined);
    for (const w of this.workers) forgetWorker(w);
    this.workers.clear();
    this.reader?.close();
    this.db?.close();
    this.db = null;
    this.reader = null;
    this.listStatements.clear();
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.exclusive(() => {
      try {
        return this.writeTxWithEvents("committing", () => this.journal.commit(batch));
      } catch (e) {
        // Rolled back: the cached sequence numbers may be ahead of the file.
        this.journal.forget();
        throw e;
      }
    });
  }

  transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    return this.exclusive(async () => {
      const db = this.database();
      this.run("starting a transactional step", () => db.exec("BEGIN IMMEDIATE"));
      const { tx, end: endSql } = createSqlTransaction(db);
      const { memory, end: endMemory } = this.memory.tx();
      const end = (): void => {
        endSql();
        endMemory();
      };
      try {
        if (!this.journal.fenceHolds(runId, epoch)) {
          end();
          db.exec("ROLLBACK");
          return { kind: "fenced" } as const;
        }
        this.journal.insertEntries(runId, before, epoch);
        const entries = await body(tx, memory);
        end();
        this.journal.insertEntries(runId, entries, epoch);
        this.st.touch.run(now, runId);
        this.run("committing a transactional step", () => db.exec("COMMIT"));
        return { kind: "committed" } as const;
      } catch (e) {
        end();
        if (db.inTransaction) db.exec("ROLLBACK");
        this.journal.forget(runId);
        throw e;
      }
    });
  }

  memoryTransaction<T>(body: (memory: MemoryTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const db = this.database();
      this.run("writing memory", () => db.exec("BEGIN IMMEDIATE"));
      const { memory, end } = this.memory.tx();
      try {
        const result = await body(memory);
        end();
        this.run("committing memory", () => db.exec("COMMIT"));
        return result;
      } catch (e) {
        end();
        if (db.inTransaction) db.exec("ROLLBACK");
        throw e;
      }
    });
  }

  readMemory(namespace: string, key: string): Promise<MemoryRecord | null> {
    return Promise.resolve(this.read("reading memory", () => this.memory.read(namespace, key)));
  }

  listMemory(filter: MemoryFilter): Promise<MemoryRecord[]> {
    return Promise.resolve(this.read("listing memory", () => this.memory.listKeys(filter)));
  }

  listMemoryNamespaces(): Promise<MemoryNamespaceRecord[]> {
    return Promise.resolve(
      this.read("listing memory namespaces", () => this.memory.listNamespaces()),
    );
  }

  memoryHistory(namespace: string, key: string, limit: number): Promise<MemoryChange[]> {
    return Promise.resolve(
      this.read("reading memory history", () => this.memory.changes(namespace, key, limit)),
    );
  }

  deleteMemory(namespace: string, updatedBefore: number, limit: number): Promise<number> {
    return this.exclusive(() =>
      this.writeTx("deleting memory", () =>
        this.memory.deleteStale(namespace, updatedBefore, limit),
      ),
    );
  }

  claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    this.remember(request.workerId);
    return this.exclusive(() =>
      this.writeTxWithEvents("claiming runs", () => claimRuns(this.st, request)),
    );
  }

  heartbeat(
    workerId: string,
    held: readonly { runId: string; epoch: number }[],
    leaseMs: number,
    now: number,
  ): Promise<string[]> {
    this.remember(workerId);
    return this.exclusive(() =>
      this.writeTx("renewing leases", () => {
        const lost: string[] = [];
        for (const h of held) {
          if (this.st.renewLease.run(now + leaseMs, h.runId, workerId, h.epoch).changes === 0)
            lost.push(h.runId);
        }
        return lost;
      }),
    );
  }

  getRun(runId: string): Promise<RunRecord | null> {
    const row = this.read(
      "reading a run",
      () => this.st.getRunRead.get(runId) as RunRow | undefined,
    );
    return Promise.resolve(row === undefined ? null : toRecord(row));
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    const [cursorAt, cursorId] = parseCursor(filter.cursor);
    const query = runListQuery(filter, cursorAt !== null);
    let statement = this.listStatements.get(query);
    if (statement === undefined) {
      statement = (this.reader as Database.Database).prepare(query);
      this.listStatements.set(query, statement);
    }
    const bound = statement;
    const rows = this.read(
      "listing runs",
      () =>
        bound.all({
          workflow: filter.workflow ?? null,
          status: filter.status ?? null,
          cursorAt,
          cursorId,
          after: filter.createdAfter ?? null,
          before: filter.createdBefore ?? null,
          idText: filter.idContains ?? null,
          parentId: filter.parentId ?? null,
          limit: filter.limit + 1,
        }) as RunRow[],
    );
    const more = rows.length > filter.limit;
    const page = rows.slice(0, filter.limit).map(toRecord);
    const last = page[page.length - 1];
    return Promise.resolve({
      runs: page,
      next: more && last !== undefined ? cursorOf(last) : null,
    });
  }

  readJournal(runId: string, range: JournalRange = "all"): Promise<JournalEntry[]> {
    const rows = this.read(
      "reading a journal",
      () =>
        (range === "segment"
          ? this.st.journalSegment.all({ id: runId })
          : this.st.journal.all(runId)) as EntryRow[],
    );
    return Promise.resolve(toEntries(runId, rows));
  }

  cancel(
    runId: string,
    request: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult> {
    return this.exclusive(() =>
      this.writeTx("cancelling a run", (): CancelResult => {
        const row = this.st.getRun.get(runId) as RunRow | undefined;
        if (row === undefined) return { kind: "not_found" };
        if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
        if (row.status === "paused") {
          // A paused run cannot replay to run its cleanup: it ends here.
          this.st.cancelRun.run({ error: request.error, now, id: runId });
          this.journal.insertEntries(runId, [request.entry]);
          this.waits.cancelAll(runId, now);
          this.waits.childEnded(runId, now);
          return { kind: "cancelled", run: toRecord(this.st.getRun.get(runId) as RunRow) };
        }
        this.st.requestCancel.run(JSON.stringify(request.cancellation), now, runId);
        return { kind: "requested", run: toRecord(this.st.getRun.get(runId) as RunRow) };
      }),
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
    return this.exclusive(() =>
      this.writeTx("sending a signal", (): SignalResult => {
        const row = this.st.getRun.get(runId) as RunRow | undefined;
        if (row === undefined) return { kind: "not_found" };
        if (TERMINAL_STATUSES.has(row.status)) return { kind: "finished", run: toRecord(row) };
        return { kind: "sent", woken: this.waits.sendSignal(runId, signal, now) };
      }),
    );
  }

  decide(runId: string, name: string, decision: DecisionInput, now: number): Promise<DecideResult> {
    return this.exclusive(() =>
      this.writeTx("recording a decision", () => this.waits.decide(runId, name, decision, now)),
    );
  }

  closeWait(
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null> {
    return this.exclusive(() =>
      this.writeTx("ending a wait", () => this.waits.close(runId, position, closure, now)),
    );
  }

  addApprovers(runId: string, position: number, approvers: readonly string[]): Promise<void> {
    return this.exclusive(() =>
      this.writeTx("escalating an approval", () =>
        this.waits.addApprovers(runId, position, approvers),
      ),
    );
  }

  withdrawWait(runId: string, position: number, now: number): Promise<WaitRef[]> {
    return this.exclusive(() =>
      this.writeTx("withdrawing a wait", () => this.waits.withdraw(runId, position, now)),
    );
  }

  cancelChildren(parentId: string, cancellation: Cancellation, now: number): Promise<string[]> {
    return this.exclusive(() =>
      this.writeTx("cancelling child runs", () =>
        this.waits.cancelChildren(parentId, cancellation, now),
      ),
    );
  }

  cancelWaits(runId: string, now: number): Promise<void> {
    return this.exclusive(() =>
      this.writeTx("cancelling waits", () => this.waits.cancelAll(runId, now)),
    );
  }

  getWait(runId: string, position: number): Promise<WaitRecord | null> {
    return this.exclusive(() =>
      this.run("reading a wait", () => this.waits.getWait(runId, position)),
    );
  }

  listApprovals(filter: { limit: number; runId?: string }): Promise<ApprovalRecord[]> {
    return this.exclusive(() =>
      this.run("listing approvals", () =>
        this.waits.listApprovals(filter.limit, filter.runId ?? null),
      ),
    );
  }

  cursor(name: string): Promise<number | null> {
    const row = this.read(
      "reading a cursor",
      () => this.st.cursor.get(name) as { value: number } | undefined,
    );
    return Promise.resolve(row?.value ?? null);
  }

  setCursor(name: string, value: number): Promise<void> {
    return this.exclusive(() =>
      this.writeTx("moving a cursor", () => void this.st.setCursor.run({ name, value })),
    );
  }

  eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]> {
    const rows = this.read(
      "reading events",
      () =>
        this.st.eventsAfter.all(name, afterPos, limit) as Array<{
          pos: number;
          id: string;
          name: string;
          data: string;
          received_at: number;
        }>,
    );
    return Promise.resolve(
      rows.map((r) => ({
        pos: r.pos,
        id: r.id,
        name: r.name,
        data: r.data,
        receivedAt: r.received_at,
      })),
    );
  }

  lastEventPos(): Promise<number> {
    return Promise.resolve(
      this.read("reading events", () => (this.st.lastEventPos.get() as { p: number }).p),
    );
  }

  deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]> {
    return this.exclusive(() =>
      this.writeTx("deleting finished runs", () => {
        const ids = (this.st.finishedBefore.all(endedBefore, limit) as Array<{ id: string }>).map(
          (r) => r.id,
        );
        for (const id of ids) for (const st of this.st.deleteRunParts) st.run(id);
        return ids;
      }),
    );
  }

  deleteEvents(receivedBefore: number, limit: number): Promise<number> {
    return this.exclusive(() =>
      this.writeTx("deleting events", () => {
        const { floor } = this.st.eventFloor.get() as { floor: number | null };
        const deleted = this.st.deleteEvents.all({
          before: receivedBefore,
          floor,
          limit,
        }) as Array<{
          pos: number;
        }>;
        // Remember the highest deleted position: new events are numbered past it.
        const highest = deleted.reduce((m, r) => Math.max(m, r.pos), 0);
        if (highest > 0) this.st.setCursor.run({ name: DELETED_EVENTS_CURSOR, value: highest });
        return deleted.length;
      }),
    );
  }

  inbox(runIds: readonly string[]): Promise<InboxItem[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.exclusive(() => this.run("reading the inbox", () => this.waits.inbox(runIds)));
  }

  resume(
    runId: string,
    entry: NewEntry,
    now: number,
    options: { readonly version?: string | null } = {},
  ): Promise<ResumeResult> {
    const pin = options.version;
    return this.reopen("resuming a run", "paused", this.st.resumeRun, runId, entry, now, () => {
      if (pin !== undefined) this.st.pinVersion.run(pin, runId);
    });
  }

  retry(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    return this.reopen("retrying a run", "failed", this.st.retryRun, runId, entry, now);
  }

  rewind(
    runId: string,
    request: { readonly entry: NewEntry; readonly fromPosition: number },
    now: number,
  ): Promise<ResumeResult> {
    return this.exclusive(() =>
      this.writeTx("rewinding a run", (): ResumeResult => {
        const row = this.st.getRun.get(runId) as RunRow | undefined;
        if (row === undefined) return { kind: "not_found" };
        if (!TERMINAL_STATUSES.has(row.status)) return { kind: "not_paused", run: toRecord(row) };
        this.st.rewindRun.run(now, runId);
        this.st.deleteWaitsFrom.run(runId, request.fromPosition);
        this.st.deleteDecisionsFrom.run(runId, request.fromPosition);
        this.journal.forget(runId);
        this.journal.insertEntries(runId, [request.entry]);
        return { kind: "resumed", run: toRecord(this.st.getRun.get(runId) as RunRow) };
      }),
    );
  }

  fork(create: RunCreate, entries: readonly NewEntry[], now: number): Promise<CreateResult> {
    return this.exclusive(() =>
      this.writeTx("forking a run", (): CreateResult => {
        const [result] = this.journal.commit({
          creates: [{ ...create, claim: null }],
          writes: [],
          now,
        }).creates;
        if (result === undefined) throw new Error("forking a run created nothing");
        if (result.created) this.journal.insertEntries(create.id, entries);
        return result;
      }),
    );
  }

  /** Makes a run in status `from` pending with `update`, journaling `entry`. */
  private reopen(
    what: string,
    from: RunRow["status"],
    update: Database.Statement,
    runId: string,
    entry: NewEntry,
    now: number,
    also: () => void = () => {},
  ): Promise<ResumeResult> {
    return this.exclusive(() =>
      this.writeTx(what, (): ResumeResult => {
        const row = this.st.getRun.get(runId) as RunRow | undefined;
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== from) return { kind: "not_paused", run: toRecord(row) };
        update.run(now, runId);
        also();
        this.journal.insertEntries(runId, [entry]);
        return { kind: "resumed", run: toRecord(this.st.getRun.get(runId) as RunRow) };
      }),
    );
  }

  acquireRate(r: RateRequest): Promise<RateGrant> {
    return this.exclusive(() =>
      this.writeTx("reserving rate-limit units", () => {
        const row = this.st.rateState.get(r.key) as { tat_ms: number } | undefined;
        const next = reserveUnits(row?.tat_ms ?? null, r.now, r.units, r.limit, r.periodMs);
        this.st.rateSave.run(r.key, next.tatMs);
        return { waitMs: Math.max(0, Math.ceil(next.grantedAtMs - r.now)) };
      }),
    );
  }

  readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]> {
    return Promise.resolve(
      this.read("reading an output stream", () => this.streams.list(runId, fromOffset, limit)),
    );
  }

  nextWakeAt(): Promise<number | null> {
    const row = this.read("reading timers", () => this.st.nextWake.get() as { at: number | null });
    return Promise.resolve(row.at);
  }

  // ---- internals ------------------------------------------------------------------------

  /** Marks a worker of this process as alive for pid takeover, until the store closes. */
  private remember(workerId: string): void {
    if (this.workers.has(workerId)) return;
    this.workers.add(workerId);
    rememberWorker(workerId);
  }

  private database(): Database.Database {
    if (this.db === null)
      throw storeError(
        new Error("the store is not open (call open() first, or it was closed)"),
        this.path,
        "working",
      );
    return this.db;
  }

  /** Runs `fn` in an IMMEDIATE transaction, mapping SQLite errors to typed ones. */
  private writeTx<T>(doing: string, fn: () => T): T {
    this.database();
    return this.run(doing, () => this.inTransaction.immediate(fn) as T);
  }

  /**
   * A write transaction that also stores the events waiting for theirs (first, in a savepoint
   * of their own: their failure is theirs alone), so that they share its fsync.
   */
  private writeTxWithEvents<T>(doing: string, fn: () => T): T {
    const taken = this.events.take();
    if (taken.length === 0) return this.writeTx(doing, fn);
    let events: SendEventResult[] | Error = new Error("not stored");
    let result: T;
    try {
      result = this.writeTx(doing, () => {
        try {
          events = this.eventsTx(taken);
        } catch (e) {
          events = e instanceof Error ? e : new Error(String(e));
        }
        return fn();
      });
    } catch (e) {
      this.events.putBack(taken);
      throw e;
    }
    this.events.settle(taken, events);
    return result;
  }

  private read<T>(doing: string, fn: () => T): T {
    if (this.reader === null)
      throw storeError(new Error("the store is not open"), this.path, doing);
    return this.run(doing, fn);
  }

  private run<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("SQLITE_")) {
        throw storeError(e, this.path, doing);
      }
      throw e;
    }
  }

  writeLockHeldMs(): number {
    return this.locked ? Math.round(performance.now() - this.lockedAtMs) : 0;
  }

  /** Serializes use of the write connection; an open transactional step holds it. */
  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    if (!this.locked) {
      // Fast path: synchronous work runs at once, without waiting a turn.
      this.locked = true;
      this.lockedAtMs = performance.now();
      let result: T | Promise<T>;
      try {
        result = fn();
      } catch (e) {
        this.locked = false;
        return Promise.reject(e);
      }
      if (!(result instanceof Promise)) {
        this.locked = false;
        return Promise.resolve(result);
      }
      const done = result.finally(() => (this.locked = false));
      this.lock = done.then(
        () => undefined,
        () => undefined,
      );
      return done;
    }
    const next = this.lock.then(() => this.exclusive(fn));
    this.lock = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}
