// The embedded store: one SQLite file in WAL mode, written through one connection.
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
  SendEventResult,
  SignalResult,
  WaitRecord,
  ClaimedRun,
  ClaimRequest,
  CommitBatch,
  CommitResult,
  CreateResult,
  RateGrant,
  RateRequest,
  ResumeResult,
  RunFilter,
  RunPage,
  RunRecord,
  RunWrite,
  Store,
  WriteResult,
} from "../store.js";
import {
  fullSlots,
  pickWithinLimits,
  reserveUnits,
  slotOf,
  type ClaimCandidate,
} from "../flow-control.js";
import { storeError } from "./errors.js";
import { openDatabase } from "./open.js";
import { forgetWorker, ownerAlive, rememberWorker } from "./owner-liveness.js";
import { createStatements, type Statements } from "./statements.js";
import { createSqlTransaction } from "./sql-transaction.js";
import { SqliteOutputStream } from "./output-stream.js";
import type { StoredChunk } from "../stream.js";
import { EpochCache } from "../epoch-cache.js";
import {
  cursorOf,
  parseCursor,
  toEntries,
  toRunRecord as toRecord,
  type EntryRow,
  type RunRow,
} from "../sql-rows.js";
import { createSqliteWaits, type SqliteWaits } from "./sqlite-waits.js";

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
}

/** The SQLite implementation of {@link Store}. Create it with {@link sqliteStore}. */
export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly description: string;
  private db: Database.Database | null = null;
  private reader: Database.Database | null = null;
  private st!: Statements;
  private streams!: SqliteOutputStream;
  private waits!: SqliteWaits;
  /** Runs a function inside a transaction; prepared once, since wrapping is not free. */
  private inTransaction!: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly options: Required<SqliteStoreOptions>;
  private lock: Promise<void> = Promise.resolve();
  private locked = false;
  private readonly workers = new Set<string>();
  /**
   * Last journal sequence number of runs this store writes under a lease, with the epoch it
   * holds: while that epoch holds, no one else appends to the run, so no lookup is needed.
   */
  private readonly lastSeqs = new EpochCache();

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.description = `sqlite:${path}`;
    this.options = {
      durability: options.durability ?? "fsync",
      pidTakeover: options.pidTakeover ?? true,
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      streamPartsMax: options.streamPartsMax ?? STREAM_PARTS_MAX_DEFAULT,
    };
    const max = this.options.streamPartsMax;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(
        `sqliteStore streamPartsMax must be a whole number of at least 1, got ${String(max)}`,
      );
    }
  }

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
    this.waits = createSqliteWaits(writer);
    this.inTransaction = writer.transaction((fn: () => unknown) => fn());
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
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.exclusive(() => {
      try {
        return this.writeTx("committing", () => this.commitSync(batch));
      } catch (e) {
        // Rolled back: the cached sequence numbers may be ahead of the file.
        this.lastSeqs.forget();
        this.streams.forget();
        throw e;
      }
    });
  }

  transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    return this.exclusive(async () => {
      const db = this.database();
      this.run("starting a transactional step", () => db.exec("BEGIN IMMEDIATE"));
      const { tx, end } = createSqlTransaction(db);
      try {
        if (!this.fenceHolds(runId, epoch)) {
          end();
          db.exec("ROLLBACK");
          return { kind: "fenced" } as const;
        }
        this.insertEntries(runId, before, epoch);
        const entries = await body(tx);
        end();
        this.insertEntries(runId, entries, epoch);
        this.st.touch.run(now, runId);
        this.run("committing a transactional step", () => db.exec("COMMIT"));
        return { kind: "committed" } as const;
      } catch (e) {
        end();
        if (db.inTransaction) db.exec("ROLLBACK");
        this.lastSeqs.forget(runId);
        throw e;
      }
    });
  }

  claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    this.remember(request.workerId);
    return this.exclusive(() => this.writeTx("claiming runs", () => this.claimSync(request)));
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
    const [createdBefore, idBefore] = parseCursor(filter.cursor);
    const rows = this.read(
      "listing runs",
      () =>
        this.st.listRuns.all({
          workflow: filter.workflow ?? null,
          status: filter.status ?? null,
          createdBefore,
          idBefore,
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

  readJournal(runId: string): Promise<JournalEntry[]> {
    const rows = this.read("reading a journal", () => this.st.journal.all(runId) as EntryRow[]);
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
          this.insertEntries(runId, [request.entry]);
          this.waits.cancelAll(runId, now);
          return { kind: "cancelled", run: toRecord(this.st.getRun.get(runId) as RunRow) };
        }
        this.st.requestCancel.run(JSON.stringify(request.cancellation), now, runId);
        return { kind: "requested", run: toRecord(this.st.getRun.get(runId) as RunRow) };
      }),
    );
  }

  sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    return this.exclusive(() =>
      this.writeTx("storing an event", () => this.waits.sendEvent(event, now)),
    );
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
        return this.st.deleteEvents.run({ before: receivedBefore, floor, limit }).changes;
      }),
    );
  }

  inbox(runIds: readonly string[]): Promise<InboxItem[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.exclusive(() => this.run("reading the inbox", () => this.waits.inbox(runIds)));
  }

  resume(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    return this.exclusive(() =>
      this.writeTx("resuming a run", (): ResumeResult => {
        const row = this.st.getRun.get(runId) as RunRow | undefined;
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "paused") return { kind: "not_paused", run: toRecord(row) };
        this.st.resumeRun.run(now, runId);
        this.insertEntries(runId, [entry]);
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

  private commitSync(batch: CommitBatch): CommitResult {
    const creates: CreateResult[] = [];
    for (const c of batch.creates) {
      if (c.claim !== null) this.remember(c.claim.workerId);
      const existing = this.st.getRun.get(c.id) as RunRow | undefined;
      if (existing !== undefined) {
        creates.push({ created: false, run: toRecord(existing) });
        continue;
      }
      const claimed = c.claim !== null;
      const row: RunRow = {
        id: c.id,
        workflow: c.workflow,
        version: c.version,
        status: claimed ? "running" : "pending",
        input: c.input,
        output: null,
        error: null,
        paused_reason: null,
        created_at: batch.now,
        updated_at: batch.now,
        ended_at: null,
        wake_at: null,
        owner: c.claim?.workerId ?? null,
        epoch: claimed ? 1 : 0,
        recoveries: 0,
        priority: c.priority,
        concurrency_key: c.concurrencyKey,
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: 0,
        metered_calls: 0,
        cancel_requested: null,
        deadline_at: c.deadlineAt,
      };
      this.st.insertRun.run({
        ...row,
        owner_pid: claimed ? process.pid : null,
        lease_expires_at: claimed ? batch.now + (c.claim?.leaseMs ?? 0) : null,
      });
      this.insertEntries(c.id, [c.started]);
      creates.push({ created: true, run: toRecord(row) });
    }
    const holding = this.holdingEpochs(batch.writes);
    const writes = batch.writes.map((w) =>
      this.applyWrite(w, batch.now, holding.get(w.runId) === w.epoch),
    );
    return { creates, writes };
  }

  /** Epochs of the written runs that are running, in one query for the whole batch. */
  private holdingEpochs(writes: readonly RunWrite[]): Map<string, number> {
    const epochs = new Map<string, number>();
    if (writes.length === 0) return epochs;
    if (writes.length === 1) {
      const w = writes[0] as RunWrite;
      if (this.fenceHolds(w.runId, w.epoch)) epochs.set(w.runId, w.epoch);
      return epochs;
    }
    const rows = this.st.fenceMany.all(JSON.stringify(writes.map((w) => w.runId))) as Array<{
      id: string;
      epoch: number;
    }>;
    for (const row of rows) epochs.set(row.id, row.epoch);
    return epochs;
  }

  private applyWrite(w: RunWrite, now: number, holds: boolean): WriteResult {
    if (!holds) {
      this.lastSeqs.forget(w.runId);
      this.streams.forget(w.runId);
      return { kind: "fenced" };
    }
    this.insertEntries(w.runId, w.entries, w.epoch);
    if (w.chunks !== undefined) this.streams.append(w.runId, w.chunks, w.epoch);
    if (w.waits !== undefined && w.waits.length > 0) this.waits.create(w.runId, w.waits, now);
    const u = w.update;
    if (u === null) return { kind: "committed" };
    this.lastSeqs.forget(w.runId);
    this.streams.forget(w.runId);
    switch (u.status) {
      case "cancelled":
      case "timed_out":
        this.st.finishRun.run({ status: u.status, output: null, error: u.error, now, id: w.runId });
        break;
      case "completed":
        this.st.finishRun.run({
          status: "completed",
          output: u.output,
          error: null,
          now,
          id: w.runId,
        });
        break;
      case "failed":
        this.st.finishRun.run({ status: "failed", output: null, error: u.error, now, id: w.runId });
        break;
      case "paused":
        this.st.pauseRun.run(u.reason, now, w.runId);
        break;
      case "waiting": {
        // A wait that ended while the run was being suspended must not sleep through it.
        const row = this.st.fence.get(w.runId) as { cancel_requested: string | null };
        const wake = row.cancel_requested !== null || this.waits.hasUndelivered(w.runId);
        this.st.releaseRun.run(wake ? "pending" : "waiting", wake ? null : u.wakeAt, now, w.runId);
        break;
      }
      case "pending":
        this.st.releaseRun.run("pending", null, now, w.runId);
        break;
    }
    return { kind: "committed" };
  }

  private claimSync(r: ClaimRequest): ClaimedRun[] {
    const running = new Map<string, number>();
    const limited = r.workflows.filter((w) => r.concurrency[w] !== undefined);
    if (limited.length > 0) {
      const counts = this.st.runningByKey.all(JSON.stringify(limited)) as Array<{
        workflow: string;
        key: string;
        n: number;
      }>;
      for (const c of counts) running.set(slotOf(c.workflow, c.key), c.n);
    }
    const args = {
      workflows: JSON.stringify(r.workflows),
      me: r.workerId,
      now: r.now,
      limit: r.limit,
      full: JSON.stringify(fullSlots(running, r)),
    };
    type Row = Omit<ClaimCandidate, "takeover"> & { priority?: number; ord?: number };
    const all = (st: Database.Statement, takeover: boolean): Array<Row & ClaimCandidate> =>
      (st.all(args) as Row[]).map((row) => ({ ...row, takeover }));
    const runnable = [...all(this.st.claimPending, false), ...all(this.st.claimDue, false)].sort(
      (a, b) => (b.priority ?? 0) - (a.priority ?? 0) || (a.ord ?? 0) - (b.ord ?? 0),
    );
    const candidates = [
      ...(r.recovering ? all(this.st.claimOwn, true) : []),
      ...all(this.st.claimOrphaned, true),
      ...runnable,
      ...(r.recovering ? all(this.st.claimDiverged, false) : []),
    ];
    const found = pickWithinLimits(candidates, r, running);
    const lease = r.now + r.leaseMs;
    return found.map(({ id, takeover }) => {
      let recoveries = 0;
      let mark = (this.st.runRow.get(id) as { progress_mark: number; recoveries: number }) ?? {
        progress_mark: 0,
        recoveries: 0,
      };
      if (takeover) {
        const progress = (this.st.progress.get(id) as { p: number | null }).p ?? 0;
        recoveries = progress > mark.progress_mark ? 1 : mark.recoveries + 1;
        mark = { progress_mark: progress, recoveries };
      }
      const row = this.st.claimRun.get({
        id,
        me: r.workerId,
        pid: process.pid,
        lease,
        now: r.now,
        recoveries,
        mark: mark.progress_mark,
      }) as RunRow;
      return { run: toRecord(row), takeover };
    });
  }

  private fenceHolds(runId: string, epoch: number): boolean {
    const row = this.st.fence.get(runId) as { epoch: number; status: string } | undefined;
    return row !== undefined && row.epoch === epoch && row.status === "running";
  }

  /** Appends entries to a run's journal, numbering them after its last one. */
  private insertEntries(runId: string, entries: readonly NewEntry[], epoch?: number): void {
    if (entries.length === 0) return;
    let seq =
      (epoch === undefined ? null : this.lastSeqs.get(runId, epoch)) ??
      (this.st.lastSeq.get(runId) as { s: number }).s;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as NewEntry;
      const next = entries[i + 1];
      if (
        e.type === "step_attempt_started" &&
        next?.type === "step_succeeded" &&
        next.position === e.position
      ) {
        // A step's start and its result, committed together, share one row: half the b-tree
        // inserts of a group commit. readJournal gives back both entries.
        this.st.insertStep.run(
          runId,
          ++seq,
          next.at,
          next.position,
          next.key,
          next.data,
          e.at,
          e.data,
        );
        this.addUsage(runId, next);
        i++;
      } else {
        this.st.insertEntry.run(runId, ++seq, e.type, e.at, e.position, e.key, e.data);
        this.addUsage(runId, e);
      }
    }
    if (epoch !== undefined) this.lastSeqs.set(runId, epoch, seq);
  }

  private addUsage(runId: string, e: NewEntry): void {
    const u = e.usage;
    if (u !== undefined) this.st.addUsage.run(u.inputTokens, u.outputTokens, u.costUsd, runId);
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

  /** Serializes use of the write connection; an open transactional step holds it. */
  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    if (!this.locked) {
      // Fast path: synchronous work runs at once, without waiting a turn.
      this.locked = true;
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
