// Deterministic: executes one run of a workflow over its journal. A pure function of
// (workflow code, journal, clock, entropy) that writes through a RunPort and does no I/O.
import { callSite } from "./call-site.js";
import type { TimerHandle } from "./clock.js";
import { checkedWait } from "./context-waits.js";
import { parseDuration, type Duration } from "./duration.js";
import {
  ensureError,
  InvalidArgumentError,
  JournalLimitError,
  NonDeterminismError,
  RunCancelledError,
  RunTimedOutError,
} from "./errors.js";
import { indexHistory, opKindOf, type History, type OpKind } from "./history.js";
import type { JournalEntry, NewEntry } from "./journal.js";
import { SETTLING_TYPES } from "./journal.js";
import type { Op, OpHost } from "./op.js";
import { finalOutcome, failureOutcome, pauseOutcome } from "./outcomes.js";
import type { RunOutcome, RunPort } from "./run-port.js";
import { decodeValue, encodeValue } from "./serialize.js";
import { SettlementQueue, type SettlementOwner } from "./settlements.js";
import { encodePart, type StreamPart } from "./stream.js";
import { runStep } from "./step-op.js";
import type {
  ApprovalOptions,
  ApprovalResult,
  Cancellation,
  ReceivedEvent,
  ReceivedSignal,
  StepContext,
  StepOptions,
  TransactionalStepContext,
  WaitForEventOptions,
  WaitOptions,
  WorkflowContext,
} from "./types.js";
import { runWait, type WaitSpec } from "./wait-op.js";
import { checkName, type Workflow } from "./workflow.js";

interface Timer {
  readonly wakeAt: number;
  handle: TimerHandle | null;
}

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

type Cleanup = (cancellation: Cancellation) => Promise<void> | void;

/**
 * One run executing in memory. Construct it to start the workflow function; `outcome`
 * settles when the run completes, fails, is cancelled, diverges from its journal, or is halted.
 */
export class RunContext implements WorkflowContext, OpHost, SettlementOwner {
  readonly runId: string;
  readonly workflowName: string;
  readonly outcome: Promise<RunOutcome>;
  readonly port: RunPort;
  private readonly history: History;
  private readonly settlements: SettlementQueue;
  private position = 0;
  private callCount = 0;
  private generation = 0;
  private readonly occurrences = new Map<string, number>();
  private readonly ops = new Map<number, Op>();
  private done = false;
  private activeBodies = 0;
  private externalWaits = 0;
  private entryCount: number;
  private readonly timers = new Map<number, Timer>();
  private readonly controllers = new Set<AbortController>();
  private runController: AbortController | null = null;
  private settleOutcome!: (outcome: RunOutcome) => void;
  private serialTail: Promise<void> = Promise.resolve();
  private drainRequested = false;
  private quietWaiter: (() => void) | null = null;
  /** Parts emitted by the workflow code so far: the next one's key in the output stream. */
  private emitted = 0;
  private readonly cleanups: Cleanup[] = [];
  private cancellation: Cancellation | null = null;

  constructor(workflow: Workflow<unknown, unknown>, spec: RunSpec, port: RunPort) {
    this.runId = spec.runId;
    this.workflowName = workflow.name;
    this.port = port;
    this.history = indexHistory(spec.journal);
    this.settlements = new SettlementQueue(this.history.settlements, this);
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
    return this.callCount;
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
    if (this.done || this.activeBodies > 0 || this.settlements.busy || this.timers.size === 0)
      return null;
    let wakeAt = Infinity;
    for (const t of this.timers.values()) wakeAt = Math.min(wakeAt, t.wakeAt);
    return { wakeAt, external: this.externalWaits > 0 };
  }

  /** Stops the run: timers cancelled, step bodies aborted with `reason`, nothing more written. */
  halt(reason: unknown): void {
    if (this.done) return;
    this.finish({ kind: "halted" });
    this.abortBodies(reason);
  }

  /**
   * Cancels the run (a request, or its `ttl` passed): running bodies are aborted, waits end,
   * and cleanup registered with `onCancel` runs durably before the run ends. Journaled first,
   * so that replay applies it at the same point.
   */
  requestCancel(reason: string, kind: Cancellation["kind"]): void {
    if (this.done || this.cancellation !== null) return;
    // Already journaled (a crash interrupted its cleanup): replay applies it where it was.
    if (this.history.settlements.some((e) => e.type === "run_cancel_requested")) return;
    this.append({
      type: "run_cancel_requested",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: JSON.stringify({ reason, kind }),
    });
    this.settlements.push(() => void this.beginCancel({ reason, kind }));
  }

  // ---- WorkflowContext ------------------------------------------------------------------

  step<T>(
    name: string,
    fn:
      | ((step: StepContext) => T | Promise<T>)
      | ((step: TransactionalStepContext) => T | Promise<T>),
    options: StepOptions<T> = {},
  ): Promise<T> {
    try {
      checkName(name, "step name");
      if (typeof fn !== "function")
        throw new InvalidArgumentError(`step '${name}' needs a function`);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.operation<T>("step", name, (op, prior) =>
      runStep(this, op, fn as (s: StepContext) => unknown, options as StepOptions<unknown>, prior),
    );
  }

  sleep(name: string, duration: Duration): Promise<void> {
    let ms: number;
    try {
      checkName(name, "sleep name");
      ms = parseDuration(duration, `sleep '${name}' duration`);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sleepOp(name, (now) => now + ms);
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    const at = until instanceof Date ? until.getTime() : until;
    try {
      checkName(name, "sleep name");
      if (typeof at !== "number" || !Number.isFinite(at)) {
        throw new InvalidArgumentError(
          `sleepUntil '${name}' needs a valid Date or epoch milliseconds`,
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sleepOp(name, () => at);
  }

  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions<T>,
  ): Promise<ReceivedEvent<T> | null> {
    return this.waitOp(name, () =>
      checkedWait.event(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  waitForSignal<T = unknown>(
    name: string,
    options: WaitOptions = {},
  ): Promise<ReceivedSignal<T> | null> {
    return this.waitOp(name, () =>
      checkedWait.signal(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  approval(name: string, options: ApprovalOptions): Promise<ApprovalResult> {
    return this.waitOp(name, () =>
      checkedWait.approval(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  sendEvent(name: string, event: { name: string; data?: unknown }): Promise<{ id: string }> {
    return this.step(
      name,
      async ({ idempotencyKey }: StepContext) => {
        checkName(event.name, "event name");
        const data = encodeValue(event.data, `event '${event.name}' data`);
        await this.port.sendEvent({ id: idempotencyKey, name: event.name, data });
        return { id: idempotencyKey };
      },
      { retries: 5 },
    );
  }

  onCancel(cleanup: Cleanup): void {
    if (typeof cleanup !== "function") throw new InvalidArgumentError("onCancel needs a function");
    this.cleanups.push(cleanup);
  }

  now(): number {
    return this.recordValue("now", () => this.port.clock.now()) as number;
  }

  random(): number {
    return this.recordValue("random", () => this.port.entropy()) as number;
  }

  uuid(): string {
    return this.recordValue("uuid", () => this.port.uuid()) as string;
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
    while (this.activeBodies > 0 && !this.done)
      await new Promise<void>((r) => (this.quietWaiter = r));
  }

  bodyStarted(): void {
    this.activeBodies++;
  }

  bodyEnded(): void {
    this.activeBodies--;
    if (this.activeBodies === 0 && this.quietWaiter !== null) {
      this.quietWaiter();
      this.quietWaiter = null;
    }
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
    this.runController ??= new AbortController();
    return this.runController.signal;
  }

  /** An abort controller that {@link halt} aborts. */
  controller(): { controller: AbortController; release: () => void } {
    const controller = new AbortController();
    this.controllers.add(controller);
    return { controller, release: () => this.controllers.delete(controller) };
  }

  /** Waits, in memory, until `wakeAt` on the run's clock. The host may evict the run instead. */
  waitUntil(position: number, wakeAt: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.done) return;
      const timer: Timer = { wakeAt, handle: null };
      const fire = (): void => {
        if (this.timers.get(position) !== timer) return;
        this.timers.delete(position);
        resolve();
      };
      this.timers.set(position, timer);
      timer.handle = this.port.clock.setTimer(Math.max(0, wakeAt - this.port.clock.now()), fire);
      this.port.changed();
    });
  }

  cancelTimer(position: number): void {
    this.timers.get(position)?.handle?.cancel();
    this.timers.delete(position);
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
    if (entry.position === null) return;
    const recorded = this.history.byPosition.get(entry.position)?.[0];
    this.diverge(
      entry.position,
      recorded,
      "nothing: the code is waiting on something else and never asked for it",
      null,
    );
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
    const error =
      cancellation.kind === "timed_out"
        ? new RunTimedOutError(`run ${this.runId} timed out: ${cancellation.reason}`)
        : new RunCancelledError(`run ${this.runId} was cancelled: ${cancellation.reason}`);
    this.abortBodies(error);
    for (const t of this.timers.values()) t.handle?.cancel();
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    await this.port.cancelWaits();
    const failures: string[] = [];
    for (const cleanup of [...this.cleanups].reverse()) {
      try {
        await cleanup(cancellation);
      } catch (e) {
        failures.push(ensureError(e).message);
      }
    }
    if (this.done) return;
    const type = cancellation.kind === "timed_out" ? "run_timed_out" : "run_cancelled";
    const data = JSON.stringify({
      reason: cancellation.reason,
      ...(failures.length > 0 ? { cleanupErrors: failures } : {}),
    });
    this.finish({
      kind: "cancelled",
      status: cancellation.kind,
      entry: { type, at: this.port.clock.now(), position: null, key: null, data },
      error: encodeValue(error, "cancellation error"),
    });
  }

  private abortBodies(reason: unknown): void {
    this.runController?.abort(reason);
    this.runController = null;
    for (const c of this.controllers) c.abort(reason);
    this.controllers.clear();
  }

  /** At the end of the code: true (and the run paused) when the journal holds more. */
  private checkCompleteReplay(): boolean {
    if (this.done) return true;
    const pending = this.settlements.nextJournaled;
    const lastPosition = this.history.lastPosition;
    if (pending === undefined && lastPosition <= this.position) return false;
    const at = pending?.position ?? lastPosition;
    const recorded = this.history.byPosition.get(at)?.[0];
    this.diverge(at, recorded, "the end of the workflow (it returned or threw)", null);
    return true;
  }

  private failRun(error: Error): void {
    if (!this.done) this.finish(failureOutcome(error, this.port));
  }

  private finish(outcome: RunOutcome): void {
    this.done = true;
    this.quietWaiter?.();
    for (const t of this.timers.values()) t.handle?.cancel();
    this.timers.clear();
    this.ops.clear();
    this.settlements.clear();
    this.settleOutcome(outcome);
  }

  private diverge(
    position: number,
    recorded: JournalEntry | undefined,
    requested: string,
    site: string | null,
  ): void {
    const recordedText = recorded === undefined ? "nothing" : describeEntry(recorded);
    const recordedSite = recorded === undefined ? null : this.siteOf(recorded);
    const hint =
      (recordedSite !== null ? `The journal's call was made at ${recordedSite}. ` : "") +
      (site !== null ? `This call is at ${site}. ` : "");
    const error = new NonDeterminismError({
      runId: this.runId,
      position,
      recorded: recordedText,
      requested,
      hint,
    });
    this.finish(pauseOutcome(error, this.port));
  }

  /** Where the journaled call was made: on its entry, or on its name's first occurrence. */
  private siteOf(recorded: JournalEntry): string | null {
    const own = siteIn(recorded);
    if (own !== null || recorded.key === null) return own;
    const first = `${recorded.key.slice(0, recorded.key.lastIndexOf("#"))}#1`;
    for (const entries of this.history.byPosition.values()) {
      if (entries[0]?.key === first) return siteIn(entries.find((e) => siteIn(e) !== null));
    }
    return null;
  }

  /** Assigns the next position to an operation and checks it against the journal. */
  private claim(
    kind: OpKind,
    name: string,
  ): {
    position: number;
    key: string;
    prior: readonly JournalEntry[] | undefined;
    site: string | null;
  } | null {
    const position = ++this.position;
    this.callCount++;
    let key = name;
    let occurrence = 0;
    if (kind !== "value") {
      occurrence = (this.occurrences.get(name) ?? 0) + 1;
      this.occurrences.set(name, occurrence);
      key = `${name}#${occurrence}`;
    }
    const prior = this.history.byPosition.get(position);
    const recorded = prior?.[0];
    // Where the code made the call, journaled with its first occurrence (a loop's later
    // occurrences come from the same line, and capturing a stack is not free).
    const site = prior === undefined && occurrence === 1 ? callSite() : null;
    if (recorded !== undefined && (opKindOf(recorded.type) !== kind || recorded.key !== key)) {
      this.diverge(position, recorded, describeOp(kind, key), callSite());
      return null;
    }
    return { position, key, prior, site };
  }

  private operation<T>(
    kind: "step" | "sleep" | "wait",
    name: string,
    run: (op: Op, prior: readonly JournalEntry[] | undefined) => Promise<void>,
  ): Promise<T> {
    if (this.done) return new Promise<T>(() => {});
    const claimed = this.claim(kind, name);
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
      else void run(op, claimed.prior).catch((e: unknown) => this.failRun(ensureError(e)));
    });
  }

  private waitOp<T>(name: string, check: () => WaitSpec): Promise<T> {
    let spec: WaitSpec;
    try {
      checkName(name, "wait name");
      spec = check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.operation<T>("wait", name, (op, prior) => runWait(this, op, spec, prior));
  }

  private sleepOp(name: string, wakeAtFrom: (now: number) => number): Promise<void> {
    return this.operation<void>("sleep", name, async (op, prior) => {
      const started = prior?.find((e) => e.type === "sleep_started");
      let wakeAt: number;
      if (started !== undefined) {
        wakeAt = (decodeValue(started.data ?? "{}") as { wakeAt: number }).wakeAt;
      } else {
        wakeAt = wakeAtFrom(this.port.clock.now());
        const site = op.site === null ? "" : `,"site":${JSON.stringify(op.site)}`;
        this.append({
          type: "sleep_started",
          at: this.port.clock.now(),
          position: op.position,
          key: op.key,
          data: `{"wakeAt":${wakeAt}${site}}`,
        });
      }
      await this.waitUntil(op.position, wakeAt);
      if (!this.isCurrent(op)) return;
      this.append({
        type: "sleep_completed",
        at: this.port.clock.now(),
        position: op.position,
        key: op.key,
        data: null,
      });
      this.settleLive(op, () => op.resolve(undefined));
    });
  }

  private recordValue(
    kind: "now" | "random" | "uuid",
    make: () => number | string,
  ): number | string {
    if (this.done) return make();
    const claimed = this.claim("value", kind);
    if (claimed === null) {
      throw new NonDeterminismError({
        runId: this.runId,
        position: this.position,
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

function settleFromJournal(op: Op, entry: JournalEntry): void {
  const data = decodeValue(entry.data ?? "null") as { error?: unknown; result?: unknown } | null;
  if (entry.type === "step_failed") op.reject(data?.error);
  else if (entry.type === "step_succeeded" || entry.type === "wait_completed")
    op.resolve(data?.result);
  else op.resolve(undefined);
}

function describeOp(kind: OpKind, key: string): string {
  return kind === "value" ? `ctx.${key}()` : `${kind} '${key}'`;
}

function describeEntry(entry: JournalEntry): string {
  const kind = opKindOf(entry.type);
  return kind === null ? entry.type : describeOp(kind, entry.key ?? "?");
}

function siteIn(entry: JournalEntry | undefined): string | null {
  if (entry?.data === null || entry?.data === undefined || !entry.data.includes('"site"'))
    return null;
  const data = decodeValue(entry.data) as { site?: unknown };
  return typeof data.site === "string" ? data.site : null;
}
