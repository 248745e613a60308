// Deterministic: the state one run shares with the operations it executes: whether it ended,
// which generation of operations is current, its journal count, timers and bodies in flight.
import { JournalLimitError } from "./errors.js";
import type { NewEntry } from "./journal.js";
import type { Op, OpScope } from "./op.js";
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
  private currentGeneration = 0;
  private externalWaits = 0;
  private serialTail: Promise<void> = Promise.resolve();
  private drainRequested = false;

  constructor(
    readonly runId: string,
    readonly port: RunPort,
    private readonly settlements: SettlementQueue,
    private entryCount: number,
    /** Called once when an append would pass the journal limit. */
    private readonly overLimit: (error: Error) => void,
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
  }

  /** Abandons every operation asked for so far (a cancellation): their results are never written. */
  abandonOps(reason: unknown): void {
    this.currentGeneration++;
    this.bodies.abort(reason);
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
  }

  append(entry: NewEntry): void {
    if (this.isEnded) return;
    const max = this.port.limits.journalEntriesMax;
    if (++this.entryCount > max) {
      this.overLimit(
        new JournalLimitError(
          `run ${this.runId} reached its journal limit of ${max} entries; a workflow that ` +
            "loops forever should call ctx.continueAsNew(input) to carry on in a fresh " +
            "journal, or raise limits.journalEntriesMax",
        ),
      );
      return;
    }
    this.port.append(entry);
  }

  countCommitted(entries: number): void {
    this.entryCount += entries;
  }

  isCurrent(op: Op): boolean {
    return op.generation === this.currentGeneration && !this.isEnded;
  }

  settleLive(op: Op, settle: () => void, first = false): void {
    if (!this.isCurrent(op)) return;
    this.ops.delete(op.position);
    this.settlements.push(settle, first);
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
