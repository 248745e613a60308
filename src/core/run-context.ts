// Deterministic: executes one run of a workflow over its journal. A pure function of
// (workflow code, journal, clock, entropy) that writes through a RunPort and does no I/O.
import { cancellationError, runCleanups, type Cleanup } from "./cancellation.js";
import { ContextApi, type OpRun, type ValueKind } from "./context-api.js";
import { divergenceError, type Divergence } from "./divergence.js";
import {
  ensureError,
  InvalidArgumentError,
  JournalLimitError,
  NonDeterminismError,
} from "./errors.js";
import { indexHistory } from "./history.js";
import { JournalMatcher, settleFromJournal } from "./journal-match.js";
import type { JournalEntry, NewEntry } from "./journal.js";
import { SETTLING_TYPES } from "./journal.js";
import type { Op, OpHost } from "./op.js";
import { cancelledOutcome, finalOutcome, failureOutcome, pauseOutcome } from "./outcomes.js";
import type { RunOutcome, RunPort } from "./run-port.js";
import { RunTimers } from "./run-timers.js";
import { RunningBodies } from "./running-bodies.js";
import { decodeValue } from "./serialize.js";
import { SettlementQueue, type SettlementOwner } from "./settlements.js";
import { encodePart, type StreamPart } from "./stream.js";
import type { Cancellation, WorkflowContext } from "./types.js";
import type { Workflow } from "./workflow.js";

/** What a host needs to start a run in memory. */
export interface RunSpec {
  readonly runId: string;
  /** The decoded input. */
  readonly input: unknown;
  /** The run's journal so far, in order (empty for a new run). */
  readonly journal: readonly JournalEntry[];
}

/** When a run is idle: its earliest timer, and whether it also waits on the world. */
export interface Idleness {
  readonly wakeAt: number;
  readonly external: boolean;
}

/**
 * One run executing in memory. Construct it to start the workflow function; `outcome`
 * settles when the run completes, fails, is cancelled, diverges from its journal, or is halted.
 */
export class RunContext extends ContextApi implements WorkflowContext, OpHost, SettlementOwner {
  readonly runId: string;
  readonly workflowName: string;
  readonly outcome: Promise<RunOutcome>;
  readonly port: RunPort;
  private readonly matcher: JournalMatcher;
  private readonly settlements: SettlementQueue;
  private readonly timers: RunTimers;
  private readonly bodies = new RunningBodies();
  private generation = 0;
  private readonly ops = new Map<number, Op>();
  private done = false;
  private externalWaits = 0;
  private entryCount: number;
  private settleOutcome!: (outcome: RunOutcome) => void;
  private serialTail: Promise<void> = Promise.resolve();
  private drainRequested = false;
  /** Parts emitted by the workflow code so far: the next one's key in the output stream. */
  private emitted = 0;
  private readonly cleanups: Cleanup[] = [];
  private cancellation: Cancellation | null = null;

  constructor(workflow: Workflow<unknown, unknown>, spec: RunSpec, port: RunPort) {
    super();
    this.runId = spec.runId;
    this.workflowName = workflow.name;
    this.port = port;
    const history = indexHistory(spec.journal);
    this.matcher = new JournalMatcher(history, (divergence) => this.diverge(divergence));
    this.settlements = new SettlementQueue(history.settlements, this);
    this.timers = new RunTimers(port);
    this.entryCount = spec.journal.length;
    this.outcome = new Promise((resolve) => (this.settleOutcome = resolve));
    void this.main(workflow, spec.input);
    // On replay, watch from the start that the code asks for what the journal recorded.
    if (this.settlements.replaying) this.settlements.pump();
  }

  /** True once the run has an outcome; nothing it does afterwards is written. */
  get halted(): boolean {
    return this.done;
  }

  get finished(): boolean {
    return this.done;
  }

  get calls(): number {
    return this.matcher.calls;
  }

  /** The cancellation under way, if any. */
  get cancelling(): Cancellation | null {
    return this.cancellation;
  }

  /**
   * When nothing runs and every pending operation waits (for a timer, or also for the world),
   * the earliest timer; otherwise null. A host evicts an idle run whose wake-up is far off.
   */
  idleness(): Idleness | null {
    if (this.done || this.bodies.active || this.settlements.busy || this.timers.size === 0)
      return null;
    return { wakeAt: this.timers.earliest(), external: this.externalWaits > 0 };
  }

  /** Stops the run: timers cancelled, step bodies aborted with `reason`, nothing more written. */
  halt(reason: unknown): void {
    if (this.done) return;
    this.finish({ kind: "halted" });
    this.bodies.abort(reason);
  }

  /**
   * Cancels the run (a request, or its `ttl` passed): running bodies are aborted, waits end,
   * and cleanup registered with `onCancel` runs durably before the run ends. Journaled first,
   * so that replay applies it at the same point.
   */
  requestCancel(reason: string, kind: Cancellation["kind"]): void {
    if (this.done || this.cancellation !== null) return;
    // Already journaled (a crash interrupted its cleanup): replay applies it where it was.
    if (this.matcher.history.settlements.some((e) => e.type === "run_cancel_requested")) return;
    this.append({
      type: "run_cancel_requested",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: JSON.stringify({ reason, kind }),
    });
    this.settlements.push(() => void this.beginCancel({ reason, kind }));
  }

  // ---- WorkflowContext (the operations are in ContextApi) --------------------------------

  onCancel(cleanup: Cleanup): void {
    if (typeof cleanup !== "function") throw new InvalidArgumentError("onCancel needs a function");
    this.cleanups.push(cleanup);
  }

  emit(part: StreamPart): void {
    if (this.finished) return;
    const data = encodePart(part, "ctx.emit part");
    // The code's order keys the part: a replay passing here again writes nothing new.
    this.port.emit({ key: `w${this.emitted++}`, at: this.port.clock.now(), data });
  }

  // ---- OpHost -----------------------------------------------------------------------------

  /** Appends an entry, counting it against the journal limit. */
  append(entry: NewEntry): void {
    if (this.done) return;
    if (++this.entryCount > this.port.limits.journalEntriesMax) {
      this.failRun(
        new JournalLimitError(
          `run ${this.runId} reached its journal limit of ${this.port.limits.journalEntriesMax} ` +
            "entries; a workflow that loops forever should end and continue as a new run, " +
            "or raise limits.journalEntriesMax",
        ),
      );
      return;
    }
    this.port.append(entry);
  }

  /** Counts entries committed through a transaction against the journal limit. */
  countCommitted(entries: number): void {
    this.entryCount += entries;
  }

  isCurrent(op: Op): boolean {
    return op.generation === this.generation && !this.done;
  }

  /** Hands a live result to the code, after any journaled ones still being replayed. */
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

  /** Stops starting step bodies; resolves once none is running. Used by a graceful close. */
  async drain(): Promise<void> {
    this.drainRequested = true;
    await this.bodies.quiet(() => this.done);
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
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.externalWaits--;
    };
  }

  get runSignal(): AbortSignal {
    return this.bodies.runSignal;
  }

  /** An abort controller that {@link halt} aborts. */
  controller(): { controller: AbortController; release: () => void } {
    return this.bodies.controller();
  }

  /** Waits, in memory, until `wakeAt` on the run's clock. The host may evict the run instead. */
  waitUntil(position: number, wakeAt: number): Promise<void> {
    if (this.done) return new Promise(() => {});
    return this.timers.wait(position, wakeAt);
  }

  cancelTimer(position: number): void {
    this.timers.cancel(position);
  }

  // ---- SettlementOwner ------------------------------------------------------------------

  settlementFor(entry: JournalEntry): (() => void) | null {
    if (entry.type === "run_cancel_requested") {
      const data = decodeValue(entry.data ?? "{}") as Cancellation;
      return () => void this.beginCancel(data);
    }
    const op = this.ops.get(entry.position ?? -1);
    if (op === undefined) return null;
    this.ops.delete(op.position);
    return () => settleFromJournal(op, entry);
  }

  stalled(entry: JournalEntry): void {
    this.matcher.stalled(entry);
  }

  nextTurn(): Promise<void> {
    return this.port.nextTurn();
  }

  drained(): void {
    if (this.timers.size > 0) this.port.changed();
  }

  // ---- internals ------------------------------------------------------------------------

  private async main(workflow: Workflow<unknown, unknown>, input: unknown): Promise<void> {
    const generation = this.generation;
    let outcome: RunOutcome;
    try {
      const output = await workflow.fn(this, input);
      if (this.done || this.generation !== generation || this.checkCompleteReplay()) return;
      outcome = await finalOutcome(workflow, output, this.port);
    } catch (thrown) {
      if (this.done || this.generation !== generation || this.checkCompleteReplay()) return;
      outcome = failureOutcome(ensureError(thrown), this.port);
    }
    if (!this.done && this.generation === generation) this.finish(outcome);
  }

  private async beginCancel(cancellation: Cancellation): Promise<void> {
    if (this.done || this.cancellation !== null) return;
    this.cancellation = cancellation;
    // Operations asked for before this point are abandoned: their results are never written.
    this.generation++;
    const error = cancellationError(this.runId, cancellation);
    this.bodies.abort(error);
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    await this.port.cancelWaits();
    const failures = await runCleanups(this.cleanups, cancellation);
    if (this.done) return;
    this.finish(cancelledOutcome(cancellation, error, failures, this.port));
  }

  /** At the end of the code: true (and the run paused) when the journal holds more. */
  private checkCompleteReplay(): boolean {
    if (this.done) return true;
    return this.matcher.endsEarly(this.settlements.nextJournaled);
  }

  private failRun(error: Error): void {
    if (!this.done) this.finish(failureOutcome(error, this.port));
  }

  private finish(outcome: RunOutcome): void {
    this.done = true;
    this.bodies.wake();
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    this.settleOutcome(outcome);
  }

  private diverge(divergence: Divergence): void {
    const error = divergenceError(this.runId, this.matcher.history, divergence);
    this.finish(pauseOutcome(error, this.port));
  }

  // ---- ContextApi -------------------------------------------------------------------------

  protected operation<T>(kind: "step" | "sleep" | "wait", name: string, run: OpRun): Promise<T> {
    if (this.done) return new Promise<T>(() => {});
    const claimed = this.matcher.claim(kind, name);
    if (claimed === null) return new Promise<T>(() => {});
    return new Promise<T>((resolve, reject) => {
      const op: Op = {
        position: claimed.position,
        kind,
        key: claimed.key,
        site: claimed.site,
        generation: this.generation,
        resolve,
        reject,
      };
      this.ops.set(op.position, op);
      const settled = claimed.prior?.some((e) => SETTLING_TYPES.has(e.type)) ?? false;
      if (settled) this.settlements.pump();
      else void run(this, op, claimed.prior).catch((e: unknown) => this.failRun(ensureError(e)));
    });
  }

  protected recordValue(kind: ValueKind, make: () => number | string): number | string {
    if (this.done) return make();
    const claimed = this.matcher.claim("value", kind);
    if (claimed === null) {
      throw new NonDeterminismError({
        runId: this.runId,
        position: this.matcher.lastPosition,
        recorded: "another operation",
        requested: `ctx.${kind}()`,
      });
    }
    const recorded = claimed.prior?.[0];
    if (recorded !== undefined) return decodeValue(recorded.data ?? "null") as number | string;
    const value = make();
    this.append({
      type: "value_recorded",
      at: this.port.clock.now(),
      position: claimed.position,
      key: claimed.key,
      data: JSON.stringify(value),
    });
    return value;
  }
}
