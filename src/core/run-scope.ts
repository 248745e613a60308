// Deterministic: the state one run shares with the operations it executes: whether it ended,
// which generation of operations is current, its journal count, timers and bodies in flight.
import { JournalLimitError } from "./errors.js";
import type { NewEntry } from "./journal.js";
import type { Op, OpScope, SettleOptions } from "./op.js";
import type { RunPort } from "./run-port.js";
import { RunTimers } from "./run-timers.js";
import { RunningBodies } from "./running-bodies.js";
import type { SettlementQueue } from "./settlements.js";

/** The {@link OpScope} of one run; the run's execution ends it and starts new generations. */
export class RunScope implements OpScope {
  readonly timers: RunTimers;
  readonly bodies = new RunningBodies();
  /** Operations asked for and not yet settled, by position. */
  readonly ops = new Map<number, Op>();
  private isEnded = false;
  private beyondLimit = false;
  private currentGeneration = 0;
  private externalWaits = 0;
  private serialTail: Promise<void> = Promise.resolve();
  private drainRequested = false;
  /** Positions of operations withdrawn (they lost a combinator), and who waits for that. */
  private readonly withdrawnOps = new Set<number>();
  private readonly withdrawalWaiters = new Map<number, () => void>();
  /** Who listens for the live settlement of an operation (combinators over it). */
  private readonly settleListeners = new Map<number, Array<(failed: boolean) => void>>();
  /** Operations settled live so far: in which order, and whether they failed. */
  private readonly settledLive = new Map<number, { order: number; failed: boolean }>();
  private settledCount = 0;
  /** The operation each promise handed to the code stands for (combinators look them up). */
  private readonly promiseOps = new WeakMap<object, Op>();

  constructor(
    readonly runId: string,
    readonly port: RunPort,
    private readonly settlements: SettlementQueue,
    private entryCount: number,
    /**
     * Called when an append would pass the journal limit (the entries of the run's current
     * segment). True lets the append through, and every later one (the run is undoing its
     * steps or cleaning up before it ends); false drops it.
     */
    private readonly overLimit: (error: JournalLimitError) => boolean,
  ) {
    this.timers = new RunTimers(port);
  }

  get ended(): boolean {
    return this.isEnded;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  /** True while the run waits on the world (an event, a signal, people). */
  get waitsExternally(): boolean {
    return this.externalWaits > 0;
  }

  /** Marks the run ended: timers cancelled, nothing more handed over or written. */
  end(): void {
    this.isEnded = true;
    this.bodies.wake();
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    this.settleListeners.clear();
  }

  /** Abandons every operation asked for so far (a cancellation): their results are never written. */
  abandonOps(reason: unknown): void {
    this.currentGeneration++;
    this.bodies.abort(reason);
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    this.settleListeners.clear();
  }

  /** Remembers that `promise`, handed to the code, is operation `op`. */
  tagPromise(promise: object, op: Op): void {
    this.promiseOps.set(promise, op);
  }

  /** The operation a promise handed to the code stands for, if it is one. */
  opOf(promise: unknown): Op | undefined {
    return typeof promise === "object" && promise !== null
      ? this.promiseOps.get(promise)
      : undefined;
  }

  /** How `position` settled live: its order among live settlements, and whether it failed. */
  liveSettlement(position: number): { order: number; failed: boolean } | undefined {
    return this.settledLive.get(position);
  }

  /** True once the operation at `position` was withdrawn. */
  isWithdrawn(position: number): boolean {
    return this.withdrawnOps.has(position);
  }

  /** Calls `listener` when the operation at `position` settles live (synchronously, as its
   * result is journaled, before the code sees it). */
  onSettled(position: number, listener: (failed: boolean) => void): void {
    let list = this.settleListeners.get(position);
    if (list === undefined) this.settleListeners.set(position, (list = []));
    list.push(listener);
  }

  /**
   * Withdraws a pending operation (it lost a combinator): from now on it writes nothing and
   * hands nothing over, its timer is stopped, and whatever waits in {@link withdrawal} ends.
   */
  withdraw(op: Op): void {
    if (this.withdrawnOps.has(op.position)) return;
    this.withdrawnOps.add(op.position);
    this.ops.delete(op.position);
    this.settleListeners.delete(op.position);
    this.timers.cancel(op.position);
    this.withdrawalWaiters.get(op.position)?.();
    this.withdrawalWaiters.delete(op.position);
  }

  withdrawal(position: number): Promise<void> {
    if (this.withdrawnOps.has(position)) return Promise.resolve();
    return new Promise((resolve) => this.withdrawalWaiters.set(position, resolve));
  }

  /** Queues a hand-over for a withdrawn operation (its cancellation, journaled). */
  settleWithdrawn(settle: () => void): void {
    if (!this.isEnded) this.settlements.push(settle);
  }

  append(entry: NewEntry): void {
    if (this.isEnded) return;
    if (++this.entryCount > this.port.limits.journalEntriesMax && !this.beyondLimit) {
      if (!this.overLimit(this.limitError())) return;
      this.beyondLimit = true;
    }
    this.port.append(entry);
  }

  /** Appends an entry past the journal limit (the run's note that it reached it). */
  appendPastLimit(entry: NewEntry): void {
    if (this.isEnded) return;
    this.entryCount++;
    this.port.append(entry);
  }

  /** Lets appends pass the journal limit from now on (the run is on its way to its end). */
  passLimit(): void {
    this.beyondLimit = true;
  }

  /** The error of a run that reached its journal limit. */
  limitError(): JournalLimitError {
    const max = this.port.limits.journalEntriesMax;
    return new JournalLimitError(
      `run ${this.runId} reached its journal limit of ${max} entries in its current journal ` +
        "segment. A workflow that loops for long should call ctx.continueAsNew(input) every " +
        "so many iterations to carry on in a fresh segment (replay then reads only that one); " +
        "or raise limits.journalEntriesMax",
    );
  }

  countCommitted(entries: number): void {
    this.entryCount += entries;
  }

  isCurrent(op: Op): boolean {
    return (
      op.generation === this.currentGeneration &&
      !this.isEnded &&
      !this.withdrawnOps.has(op.position)
    );
  }

  settleLive(op: Op, settle: () => void, options: SettleOptions = {}): void {
    if (!this.isCurrent(op)) return;
    this.ops.delete(op.position);
    const failed = options.failed ?? false;
    this.settledLive.set(op.position, { order: ++this.settledCount, failed });
    this.settlements.push(settle, options.first ?? false);
    const listeners = this.settleListeners.get(op.position);
    if (listeners === undefined) return;
    this.settleListeners.delete(op.position);
    for (const listener of listeners) listener(failed);
  }

  holdSettlements(): () => void {
    return this.settlements.hold();
  }

  serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serialTail.then(work);
    this.serialTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  get draining(): boolean {
    return this.drainRequested;
  }

  /** Stops starting step bodies; resolves once none is running. */
  async drain(): Promise<void> {
    this.drainRequested = true;
    await this.bodies.quiet(() => this.isEnded);
  }

  bodyStarted(): void {
    this.bodies.started();
  }

  bodyEnded(): void {
    this.bodies.ended();
    // Only a run with timers can become idle enough to evict.
    if (this.timers.size > 0) this.port.changed();
  }

  externalWaitStarted(): () => void {
    this.externalWaits++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.externalWaits--;
    };
  }

  get runSignal(): AbortSignal {
    return this.bodies.runSignal;
  }

  controller(): { controller: AbortController; release: () => void } {
    return this.bodies.controller();
  }

  waitUntil(position: number, wakeAt: number): Promise<void> {
    if (this.isEnded) return new Promise(() => {});
    return this.timers.wait(position, wakeAt);
  }

  cancelTimer(position: number): void {
    this.timers.cancel(position);
  }
}
