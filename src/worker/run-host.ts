// Hosts one claimed run in memory: gives the replay core its port onto the group committer
// and the store, tells it when its waits end, evicts it when it only waits for something far
// off, and records how it ended.
import { placeInSource } from "./source-positions.js";
import { randomUUID } from "node:crypto";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { RateLimit } from "../core/flow-control.js";
import { entryData, withSpan } from "../core/entry-data.js";
import { EngineClosedError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { journalForReplay } from "../core/retry-journal.js";
import { RunExecution } from "../core/run-execution.js";
import type {
  ChildRequest,
  ChildWorkflow,
  OutgoingEvent,
  RunLimits,
  RunOutcome,
  RunPort,
  WaitClosure,
  WaitOutcome,
  WaitRequest,
} from "../core/run-port.js";
import type { MemoryTx } from "../core/memory.js";
import type { Cancellation, SqlTransaction } from "../core/types.js";
import type { NewChunk } from "../core/stream.js";
import type { Workflow } from "../core/workflow.js";
import type {
  RateGrant,
  RunCreate,
  RunRecord,
  RunUpdate,
  Store,
  WaitRecord,
  WaitRef,
  WriteResult,
} from "../store/store.js";
import type { Committer } from "./committer.js";
import type { RunObservation } from "./observer.js";

export type { RunExit } from "./run-exit.js";
import type { RunExit } from "./run-exit.js";

/** What a run host needs from its worker. */
export interface HostServices {
  readonly clock: Clock;
  readonly limits: RunLimits;
  readonly committer: Committer;
  readonly store: Store;
  /** Waits shorter than this (ms) stay in memory; longer ones evict the run. A run waiting
   * on the world (an event, a signal, people) lingers this long before it is evicted. */
  readonly inMemoryWaitMs: number;
  readonly waitTimeoutMsDefault: number;
  warn(message: string): void;
  /** The run left memory (ended, paused, evicted, lost). */
  exited(runId: string, exit: RunExit): void;
  /** The run carried on in a fresh journal segment and was handed back to be claimed. */
  continued(runId: string): void;
  /** The run was evicted until `wakeAt`. */
  evicted(runId: string, wakeAt: number): void;
  /** Reserves units of a rate limit in the store. */
  reserve(limit: RateLimit): Promise<RateGrant>;
  /** The store failed for this run outside a commit: it is lost here and handed back. */
  storeFailed(runId: string, epoch: number, error: Error): void;
  /** An event sent from a run (or a decision) ended these waits. */
  woke(refs: readonly WaitRef[]): void;
  /** A run stored an event of this name: runs of workflows it triggers may start now. */
  eventStored(name: string): void;
  /** The registered workflow of a child run, with its input checked (see RunPort). */
  childWorkflow(workflow: unknown, input: unknown): ChildWorkflow;
  /** The run to create for a child of run `parentId`. */
  childCreate(child: ChildRequest, parentId: string, trace: string | null): RunCreate;
  /** The store asked these child runs to cancel: tell those held here, wake the others. */
  childrenCancelled(runIds: readonly string[], cancellation: Cancellation): void;
  /** Who watches this run (logs, traces, metrics), if anyone. */
  readonly observation?: RunObservation | null;
}

let sharedTurn: Promise<void> | null = null;

/** The next turn of the event loop, one timer shared by every run that asks in this turn. */
function nextTurn(): Promise<void> {
  sharedTurn ??= new Promise((resolve) =>
    setImmediate(() => {
      sharedTurn = null;
      resolve();
    }),
  );
  return sharedTurn;
}

function outcomeOf(wait: WaitRecord): WaitOutcome | null {
  return wait.status === "open" ? null : { status: wait.status, value: wait.value };
}

/** One run executing in this worker. */
export class RunHost implements RunPort {
  readonly runId: string;
  readonly epoch: number;
  readonly execution: RunExecution;
  readonly clock: Clock;
  readonly limits: RunLimits;
  readonly waitTimeoutMsDefault: number;
  private readonly deadlineAt: number | null;
  /** The run that started this one, if any: its wait ends with this run's end. */
  private readonly parentId: string | null;
  private readonly watchers = new Map<number, (outcome: WaitOutcome) => void>();
  /** Reads of this run's waits under way (see waitEnded). */
  private reading = 0;
  private idleCheckScheduled = false;
  private lingering: TimerHandle | null = null;
  private deadlineTimer: TimerHandle | null = null;
  private gone = false;

  constructor(
    private readonly services: HostServices,
    workflow: Workflow<unknown, unknown>,
    run: RunRecord,
    input: unknown,
    journal: readonly JournalEntry[],
    /** A first entry (the run was recovered or resumed), written before anything the run does. */
    prelude: NewEntry | null = null,
  ) {
    this.runId = run.id;
    this.epoch = run.epoch;
    if (prelude !== null) services.committer.append(run.id, run.epoch, prelude);
    this.clock = services.clock;
    this.limits = services.limits;
    this.waitTimeoutMsDefault = services.waitTimeoutMsDefault;
    this.deadlineAt = run.deadlineAt;
    this.parentId = run.parentId;
    this.execution = new RunExecution(
      workflow,
      { runId: run.id, input, journal: journalForReplay(journal) },
      this,
      { placeSite: placeInSource },
    );
    void this.execution.outcome.then((outcome) => this.record(outcome));
    if (run.cancelRequested !== null) this.requestCancel(run.cancelRequested);
    this.watchDeadline();
  }

  // ---- RunPort ----------------------------------------------------------------------------

  append(entry: NewEntry): void {
    this.services.committer.append(this.runId, this.epoch, entry);
    this.services.observation?.appended(entry);
  }

  durable(): Promise<void> {
    return this.services.committer.durable(this.runId);
  }

  async transaction(
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<NewEntry[]>,
  ): Promise<void> {
    const observation = this.services.observation;
    const watched =
      observation === null || observation === undefined
        ? body
        : async (tx: SqlTransaction, memory: MemoryTx) => {
            const entries = await body(tx, memory);
            for (const entry of entries) observation.appended(entry);
            return entries;
          };
    const result = await this.services.committer.transaction(this.runId, this.epoch, watched);
    if (result.kind !== "committed") {
      this.lose();
      await new Promise<never>(() => {});
    }
  }

  async acquireRate(limit: RateLimit): Promise<void> {
    let grant: RateGrant;
    try {
      grant = await this.services.reserve(limit);
    } catch (e) {
      this.services.storeFailed(
        this.runId,
        this.epoch,
        e instanceof Error ? e : new Error(String(e)),
      );
      return new Promise<never>(() => {});
    }
    const waitMs = grant.waitMs;
    if (waitMs > 0 && !this.gone) {
      await new Promise<void>((resolve) => this.clock.setTimer(waitMs, resolve));
    }
  }

  emit(chunk: NewChunk): void {
    if (!this.gone) this.services.committer.appendChunk(this.runId, this.epoch, chunk);
  }

  nextTurn(): Promise<void> {
    return nextTurn();
  }

  entropy(): number {
    return Math.random();
  }

  uuid(): string {
    return randomUUID();
  }

  changed(): void {
    if (this.idleCheckScheduled || this.gone) return;
    this.idleCheckScheduled = true;
    setImmediate(() => {
      this.idleCheckScheduled = false;
      this.checkIdle();
    });
  }

  warn(message: string): void {
    this.services.warn(message);
  }

  createWait(wait: WaitRequest): void {
    this.services.committer.addWait(this.runId, this.epoch, wait);
  }

  waitOutcome(position: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      this.watchers.set(position, (outcome) => {
        this.watchers.delete(position);
        resolve(outcome);
      });
      void this.waitEnded(position);
    });
  }

  async closeWait(position: number, closure: WaitClosure): Promise<WaitOutcome> {
    const wait = await this.services.store.closeWait(
      this.runId,
      position,
      closure,
      this.clock.now(),
    );
    return (wait === null ? null : outcomeOf(wait)) ?? { status: "cancelled", value: null };
  }

  addApprovers(position: number, approvers: readonly string[]): Promise<void> {
    return this.services.store.addApprovers(this.runId, position, approvers);
  }

  async sendEvent(event: OutgoingEvent): Promise<void> {
    const result = await this.services.store.sendEvent(event, this.clock.now());
    this.services.woke(result.woken);
    if (result.created) this.services.eventStored(event.name);
  }

  cancelWaits(): Promise<void> {
    return this.services.store.cancelWaits(this.runId, this.clock.now());
  }

  childWorkflow(workflow: unknown, input: unknown): ChildWorkflow {
    return this.services.childWorkflow(workflow, input);
  }

  startChild(child: ChildRequest): void {
    const trace = this.services.observation?.traceparent ?? null;
    const create = this.services.childCreate(child, this.runId, trace);
    this.services.committer.addChild(this.runId, this.epoch, create);
  }

  async cancelChildren(reason: string): Promise<void> {
    const cancellation = {
      reason: `its parent run ${this.runId} was cancelled: ${reason}`,
      kind: "cancelled" as const,
    };
    const ids = await this.services.store.cancelChildren(
      this.runId,
      cancellation,
      this.clock.now(),
    );
    if (ids.length > 0) this.services.childrenCancelled(ids, cancellation);
  }

  async withdrawWait(position: number): Promise<void> {
    this.watchers.delete(position);
    // The wait row is created with the commit that journals its start.
    await this.durable();
    let woken: readonly WaitRef[];
    try {
      woken = await this.services.store.withdrawWait(this.runId, position, this.clock.now());
    } catch (e) {
      this.services.storeFailed(
        this.runId,
        this.epoch,
        e instanceof Error ? e : new Error(String(e)),
      );
      return new Promise<never>(() => {});
    }
    if (woken.length > 0) this.services.woke(woken);
  }

  // ---- worker side ------------------------------------------------------------------------

  /** Whether the run waits on the world: it wants the worker to watch its inbox. */
  get watching(): boolean {
    return this.watchers.size > 0;
  }

  /**
   * A wait of the run may have ended: read it and, if so, tell the run. While a read is under
   * way the run stays in memory: evicting it then would put to sleep a run whose wait has
   * ended, only for the store to make it runnable again at once. A failed read is left to the
   * next look at the inbox.
   */
  async waitEnded(position: number): Promise<void> {
    if (!this.watchers.has(position)) return;
    this.reading++;
    try {
      const wait = await this.services.store.getWait(this.runId, position);
      const outcome = wait === null ? null : outcomeOf(wait);
      if (outcome !== null) this.watchers.get(position)?.(outcome);
    } catch (e) {
      this.services.warn(
        `run ${this.runId}: could not read its wait at position ${position} (${(e as Error).message}); it is read again with the inbox`,
      );
    } finally {
      this.reading--;
      this.changed();
    }
  }

  /** Cancels the run (a request, or its deadline): cleanup runs, then it ends. */
  requestCancel(cancellation: Cancellation): void {
    if (this.gone) return;
    this.execution.requestCancel(cancellation);
  }

  /** The run's lease is gone (cancelled, taken over, store failure): stop without writing. */
  lose(reason: unknown = null): void {
    if (this.gone) return;
    this.leave();
    this.execution.halt(reason);
    this.services.committer.forget(this.runId);
    this.services.exited(this.runId, { kind: "left" });
  }

  /** Graceful close: let running bodies finish (up to `graceMs`), then hand the run back. */
  async handBack(graceMs: number): Promise<void> {
    if (this.gone) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.execution.drain(),
      new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    if (this.gone) return;
    this.leave();
    this.execution.halt(
      new EngineClosedError("the engine closed; the run was handed back to the store"),
    );
    await this.write([], { status: "pending" });
    this.services.exited(this.runId, { kind: "left" });
  }

  private leave(): void {
    this.gone = true;
    this.watchers.clear();
    this.lingering?.cancel();
    this.deadlineTimer?.cancel();
  }

  private watchDeadline(): void {
    if (this.deadlineAt === null) return;
    const ttl = (): void =>
      this.requestCancel({ reason: "it ran longer than its workflow's ttl", kind: "timed_out" });
    const left = this.deadlineAt - this.clock.now();
    if (left <= 0) ttl();
    else this.deadlineTimer = this.clock.setTimer(left, ttl);
  }

  private checkIdle(): void {
    if (this.gone) return;
    const idle = this.execution.idleness();
    if (idle === null) return;
    const wakeAt = Math.min(idle.wakeAt, this.deadlineAt ?? Infinity);
    if (!idle.external && wakeAt - this.clock.now() > this.services.inMemoryWaitMs) {
      this.evict(wakeAt);
      return;
    }
    // Waiting in memory: make what the run did so far (and the wait itself) visible now.
    void this.durable();
    if (idle.external && this.lingering === null) {
      // A reply often comes quickly; if none does, the run leaves memory. On the engine's
      // clock, so that a virtual clock's advance() evicts it as production time would.
      this.lingering = this.clock.setTimer(this.services.inMemoryWaitMs, () => {
        this.lingering = null;
        const still = this.execution.idleness();
        if (still?.external === true && !this.gone && this.reading === 0)
          this.evict(Math.min(still.wakeAt, this.deadlineAt ?? Infinity));
        else this.changed();
      });
    }
  }

  private evict(wakeAt: number): void {
    this.leave();
    this.execution.halt(null);
    const entry: NewEntry = {
      type: "run_suspended",
      at: this.clock.now(),
      position: null,
      key: null,
      data: withSpan(
        entryData.run_suspended({ wakeAt }),
        this.services.observation?.traceparent ?? null,
      ),
    };
    void this.write([entry], { status: "waiting", wakeAt }).then((r) => {
      if (r?.kind === "committed") this.services.evicted(this.runId, wakeAt);
      this.services.exited(this.runId, { kind: "left" });
    });
  }

  private async record(outcome: RunOutcome): Promise<void> {
    if (outcome.kind === "halted" || this.gone) return;
    this.leave();
    if (outcome.kind === "continued") {
      // Handed back with its run_continued: claimed again, it replays the fresh segment.
      const handed = await this.write([outcome.entry], { status: "pending" });
      this.services.exited(this.runId, { kind: "left" });
      if (handed?.kind === "committed") this.services.continued(this.runId);
      return;
    }
    const update: RunUpdate =
      outcome.kind === "completed"
        ? { status: "completed", output: outcome.output }
        : outcome.kind === "failed"
          ? { status: "failed", error: outcome.error }
          : outcome.kind === "cancelled"
            ? { status: outcome.status, error: outcome.error }
            : { status: "paused", reason: outcome.code };
    const result = await this.write([outcome.entry], update);
    if (result?.kind !== "committed") {
      this.services.exited(this.runId, { kind: "left" });
    } else if (outcome.kind === "paused") {
      this.services.warn(outcome.reason);
      this.services.exited(this.runId, { kind: "paused", reason: outcome.reason });
    } else {
      const status = outcome.kind === "cancelled" ? outcome.status : outcome.kind;
      const output = outcome.kind === "completed" ? outcome.output : null;
      const error =
        outcome.kind === "failed" || outcome.kind === "cancelled" ? outcome.error : null;
      this.services.exited(this.runId, { kind: "ended", status, output, error });
    }
  }

  private async write(entries: NewEntry[], update: RunUpdate): Promise<WriteResult | null> {
    for (const entry of entries) this.services.observation?.appended(entry);
    try {
      const parent = this.parentId ?? undefined;
      return await this.services.committer.update(this.runId, this.epoch, entries, update, parent);
    } catch (e) {
      this.services.warn(
        `run ${this.runId}: could not record its state (${(e as Error).message}); it will be recovered`,
      );
      return null;
    }
  }
}
