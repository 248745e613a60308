// Deterministic: executes one run of a workflow over its journal. A pure function of
// (workflow code, journal, clock, entropy) that writes through a RunPort and does no I/O.
import { callSite } from "./call-site.js";
import type { TimerHandle } from "./clock.js";
import { parseDuration, type Duration } from "./duration.js";
import {
  ensureError,
  InvalidArgumentError,
  JournalLimitError,
  NonDeterminismError,
  OutputValidationError,
} from "./errors.js";
import { indexHistory, opKindOf, type History } from "./history.js";
import { SETTLING_TYPES, type JournalEntry, type NewEntry } from "./journal.js";
import type { RunOutcome, RunPort } from "./run-port.js";
import { validate } from "./schema.js";
import { checkPayloadSize, decodeValue, encodeValue } from "./serialize.js";
import { encodePart, type StreamPart } from "./stream.js";
import type { Op, OpHost } from "./op.js";
import { runStep } from "./step-op.js";
import type {
  StepContext,
  StepOptions,
  TransactionalStepContext,
  WorkflowContext,
} from "./types.js";
import { checkName, type Workflow } from "./workflow.js";

/** Macrotask turns a replay waits for the code to ask for a recorded operation before it
 * calls the run diverged. Workflow code only awaits endure operations, so a handful of turns
 * is plenty; awaiting anything else between steps is itself non-deterministic. */
const REPLAY_STALL_TURNS = 20;

type OpKind = "step" | "sleep" | "value";

interface Wait {
  readonly wakeAt: number;
  timer: TimerHandle | null;
}

/** What a host needs to start a run in memory. */
export interface RunSpec {
  readonly runId: string;
  /** The decoded input. */
  readonly input: unknown;
  /** The run's journal so far, in order (empty for a new run). */
  readonly journal: readonly JournalEntry[];
}

/**
 * One run executing in memory. Construct it to start the workflow function; `outcome`
 * settles when the run completes, fails, diverges from its journal, or is halted.
 */
export class RunContext implements WorkflowContext, OpHost {
  readonly runId: string;
  readonly workflowName: string;
  readonly outcome: Promise<RunOutcome>;
  readonly port: RunPort;
  private readonly history: History;
  private position = 0;
  private calls = 0;
  private readonly occurrences = new Map<string, number>();
  private readonly ops = new Map<number, Op>();
  private readonly liveSettlements: Array<() => void> = [];
  private cursor = 0;
  private pumping = false;
  private stallArmed = false;
  private finished = false;
  private activeBodies = 0;
  private entryCount: number;
  private readonly waits = new Map<number, Wait>();
  private readonly controllers = new Set<AbortController>();
  private runController: AbortController | null = null;
  private settleOutcome!: (outcome: RunOutcome) => void;
  private holds = 0;
  private serialTail: Promise<void> = Promise.resolve();
  private drainRequested = false;
  private quietWaiter: (() => void) | null = null;
  /** Parts emitted by the workflow code so far: the next one's key in the output stream. */
  private emitted = 0;

  constructor(workflow: Workflow<unknown, unknown>, spec: RunSpec, port: RunPort) {
    this.runId = spec.runId;
    this.workflowName = workflow.name;
    this.port = port;
    this.history = indexHistory(spec.journal);
    this.entryCount = spec.journal.length;
    this.outcome = new Promise((resolve) => (this.settleOutcome = resolve));
    void this.main(workflow, spec.input);
    // On replay, watch from the start that the code asks for what the journal recorded.
    if (this.replaying) this.pump();
  }

  /** True while journaled settlements remain to be handed to the code. */
  get replaying(): boolean {
    return this.cursor < this.history.settlements.length;
  }

  /** True once the run has an outcome; nothing it does afterwards is written. */
  get halted(): boolean {
    return this.finished;
  }

  /**
   * When every pending operation is a timed wait and nothing else is in flight, the earliest
   * wake-up time; otherwise null. A host evicts an idle run whose wake-up is far off.
   */
  idleUntil(): number | null {
    if (this.finished || this.activeBodies > 0 || this.pumping || this.replaying) return null;
    if (this.liveSettlements.length > 0 || this.waits.size === 0) return null;
    let earliest = Infinity;
    for (const w of this.waits.values()) earliest = Math.min(earliest, w.wakeAt);
    return earliest;
  }

  /** Stops the run: timers cancelled, step bodies aborted with `reason`, nothing more written. */
  halt(reason: unknown): void {
    if (this.finished) return;
    this.finish({ kind: "halted" });
    this.runController?.abort(reason);
    for (const c of this.controllers) c.abort(reason);
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
    if (this.finished) return;
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

  /** Hands a live result to the code, after any journaled ones still being replayed. */
  settleLive(op: Op, settle: () => void, first = false): void {
    if (this.finished) return;
    this.ops.delete(op.position);
    if (first) this.liveSettlements.unshift(settle);
    else this.liveSettlements.push(settle);
    this.pump();
  }

  holdSettlements(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.pump();
    };
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
    while (this.activeBodies > 0 && !this.finished)
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
    // Only a run with timed waits can become idle enough to evict.
    if (this.waits.size > 0) this.port.changed();
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
      if (this.finished) return;
      const wait: Wait = { wakeAt, timer: null };
      const fire = (): void => {
        if (this.waits.get(position) !== wait) return;
        this.waits.delete(position);
        resolve();
      };
      this.waits.set(position, wait);
      wait.timer = this.port.clock.setTimer(Math.max(0, wakeAt - this.port.clock.now()), fire);
      this.port.changed();
    });
  }

  // ---- internals ------------------------------------------------------------------------

  private async main(workflow: Workflow<unknown, unknown>, input: unknown): Promise<void> {
    let output: unknown;
    try {
      output = await workflow.fn(this, input);
    } catch (thrown) {
      if (!this.finished && !this.checkCompleteReplay()) this.failRun(ensureError(thrown));
      return;
    }
    if (this.finished || this.checkCompleteReplay()) return;
    try {
      const schema = workflow.options.output;
      if (schema !== undefined) {
        const checked = await validate(schema, output);
        if (!checked.ok) {
          throw new OutputValidationError(
            `workflow '${this.workflowName}' returned an output that fails its schema: ${checked.issues}`,
          );
        }
        output = checked.value;
      }
      const encoded = encodeValue(output, `workflow '${this.workflowName}' output`);
      checkPayloadSize(
        encoded,
        this.port.limits.payloadBytesMax,
        `workflow '${this.workflowName}' output`,
      );
      const entry: NewEntry = {
        type: "run_completed",
        at: this.port.clock.now(),
        position: null,
        key: null,
        data: `{"output":${encoded}}`,
      };
      this.finish({ kind: "completed", entry, output: encoded });
    } catch (e) {
      if (!this.finished) this.failRun(ensureError(e));
    }
  }

  /** At the end of the code: true (and the run paused) when the journal holds more. */
  private checkCompleteReplay(): boolean {
    if (this.finished) return true;
    const pending = this.history.settlements[this.cursor];
    const lastPosition = this.history.lastPosition;
    if (pending === undefined && lastPosition <= this.position) return false;
    const at = pending?.position ?? lastPosition;
    const recorded = this.history.byPosition.get(at)?.[0];
    this.diverge(at, recorded, "the end of the workflow (it returned or threw)", null);
    return true;
  }

  private failRun(error: Error): void {
    if (this.finished) return;
    let encoded: string;
    try {
      encoded = encodeValue(error, "run error");
    } catch {
      const plain = new Error(error.message);
      plain.name = error.name;
      if (error.stack !== undefined) plain.stack = error.stack;
      encoded = encodeValue(plain, "run error");
    }
    const entry: NewEntry = {
      type: "run_failed",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: `{"error":${encoded}}`,
    };
    this.finish({ kind: "failed", entry, error: encoded });
  }

  private finish(outcome: RunOutcome): void {
    this.finished = true;
    this.quietWaiter?.();
    for (const w of this.waits.values()) w.timer?.cancel();
    this.waits.clear();
    this.ops.clear();
    this.liveSettlements.length = 0;
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
    const entry: NewEntry = {
      type: "run_paused",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: `{"reason":"non_determinism","error":${encodeValue(error, "pause reason")}}`,
    };
    this.finish({ kind: "paused", entry, reason: error.message });
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
    this.calls++;
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
    kind: "step" | "sleep",
    name: string,
    run: (op: Op, prior: readonly JournalEntry[] | undefined) => Promise<void>,
  ): Promise<T> {
    if (this.finished) return new Promise<T>(() => {});
    const claimed = this.claim(kind, name);
    if (claimed === null) return new Promise<T>(() => {});
    return new Promise<T>((resolve, reject) => {
      const op: Op = {
        position: claimed.position,
        kind,
        key: claimed.key,
        site: claimed.site,
        resolve: resolve,
        reject,
      };
      this.ops.set(op.position, op);
      const settled = claimed.prior?.some((e) => SETTLING_TYPES.has(e.type)) ?? false;
      if (settled) this.pump();
      else void run(op, claimed.prior).catch((e: unknown) => this.failRun(ensureError(e)));
    });
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
    if (this.finished) return make();
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

  /** Hands settlements to the code one per turn: journaled ones first, in journal order. */
  private pump(): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    void this.deliverSettlements();
  }

  private async deliverSettlements(): Promise<void> {
    for (;;) {
      if (this.finished) break;
      const settle = this.nextSettlement();
      if (settle === null) break;
      settle();
      await this.port.nextTurn();
    }
    this.pumping = false;
    if (!this.finished && this.waits.size > 0) this.port.changed();
  }

  private nextSettlement(): (() => void) | null {
    const entry = this.history.settlements[this.cursor];
    if (entry !== undefined) {
      const op = this.ops.get(entry.position ?? -1);
      if (op === undefined) {
        this.armStallCheck();
        return null;
      }
      this.cursor++;
      this.ops.delete(op.position);
      return () => settleFromJournal(op, entry);
    }
    return this.holds > 0 ? null : (this.liveSettlements.shift() ?? null);
  }

  private armStallCheck(): void {
    if (this.stallArmed) return;
    this.stallArmed = true;
    const calls = this.calls;
    const cursor = this.cursor;
    void (async () => {
      for (let i = 0; i < REPLAY_STALL_TURNS; i++) await this.port.nextTurn();
      this.stallArmed = false;
      if (this.finished || this.cursor !== cursor) return;
      if (this.calls !== calls) {
        if (!this.pumping) this.armStallCheck();
        return;
      }
      const entry = this.history.settlements[cursor];
      if (entry?.position === undefined || entry.position === null) return;
      const recorded = this.history.byPosition.get(entry.position)?.[0];
      this.diverge(
        entry.position,
        recorded,
        "nothing: the code is waiting on something else and never asked for it",
        null,
      );
    })();
  }
}

function settleFromJournal(op: Op, entry: JournalEntry): void {
  if (entry.type === "step_failed") {
    op.reject((decodeValue(entry.data ?? "{}") as { error: unknown }).error);
  } else if (entry.type === "step_succeeded") {
    op.resolve((decodeValue(entry.data ?? "{}") as { result: unknown }).result);
  } else {
    op.resolve(undefined);
  }
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
