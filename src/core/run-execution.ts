// Deterministic: executes one run of a workflow over its journal. A pure function of
// (workflow code, journal, clock, entropy) that writes through a RunPort and does no I/O.
import type { SitePlacer } from "./call-site.js";
import { callSite } from "./call-site.js";
import { cancellationError, runCleanups, type Cleanup } from "./cancellation.js";
import { divergenceError, type Divergence } from "./divergence.js";
import { entryData, readEntryData } from "./entry-data.js";
import { checkCombinator, Combinator, type CombinatorKind } from "./combinators.js";
import {
  AbandonedWaitError,
  CompensationFailedError,
  ContinueAsNewRefusedError,
  JournalLimitError,
  ensureError,
  InputValidationError,
  InvalidArgumentError,
  isEndureError,
  NonDeterminismError,
  QueryNotFoundError,
  QueryRefusedError,
} from "./errors.js";
import { indexHistory } from "./history.js";
import { JournalMatcher, settleFromJournal } from "./journal-match.js";
import type { JournalEntry } from "./journal.js";
import { SETTLING_TYPES } from "./journal.js";
import type { Op } from "./op.js";
import { cancelledOutcome, finalOutcome, failureOutcome, pauseOutcome } from "./outcomes.js";
import type { RunOutcome, RunPort } from "./run-port.js";
import { RunScope } from "./run-scope.js";
import { SettlementQueue } from "./settlements.js";
import type { PayloadShape } from "./shapes.js";
import { encodePart, type StreamPart } from "./stream.js";
import { checkPayloadSize, encodeValue } from "./serialize.js";
import { validate } from "./schema.js";
import type { Cancellation, WorkflowContext } from "./types.js";
import type { Workflow } from "./workflow.js";
import { listenForUpdates, validateUpdate, type UpdateHandler } from "./updates.js";
import {
  RunWorkflowContext,
  type OpRun,
  type ValueKind,
  type WaitTarget,
} from "./workflow-context.js";

/** What a worker needs to start a run in memory. */
export interface RunSpec {
  readonly runId: string;
  /** The decoded input. */
  readonly input: unknown;
  /** The run's journal so far, in order (empty for a new run). */
  readonly journal: readonly JournalEntry[];
}

/** An operation a replay-only execution reached that its journal has no result for. */
export interface FrontierOp {
  readonly position: number;
  readonly kind: "step" | "sleep" | "wait" | "memory";
  readonly key: string;
  /** Whether the journal recorded its start (a step attempt, a wait) without its end. */
  readonly started: boolean;
}

/** Options of a {@link RunExecution}. */
export interface ExecutionOptions {
  /**
   * Replay only: an operation whose result is not in the journal is never executed (no step
   * body runs, no wait begins); it is reported here and stays pending.
   */
  readonly frontier?: (op: FrontierOp) => void;
  /** Turns call sites into the user's source positions (the worker maps them through source
   * maps); default: the positions of the code Node runs. */
  readonly placeSite?: SitePlacer;
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
export class RunExecution {
  readonly runId: string;
  readonly outcome: Promise<RunOutcome>;
  /** What the workflow function receives. */
  readonly ctx: WorkflowContext;
  private readonly port: RunPort;
  private readonly matcher: JournalMatcher;
  private readonly settlements: SettlementQueue;
  private readonly scope: RunScope;
  private settleOutcome!: (outcome: RunOutcome) => void;
  /** Parts emitted by the workflow code so far: the next one's key in the output stream. */
  private emitted = 0;
  private readonly cleanups: Cleanup[] = [];
  private cancellation: Cancellation | null = null;
  /** Handlers registered with `ctx.onQuery`, by name. */
  private readonly queries = new Map<string, (args: unknown) => unknown>();
  /** Handlers registered with `ctx.onUpdate`, by name. */
  private readonly updates = new Map<string, UpdateHandler>();
  /** The query being answered, while its handler runs. */
  private answering: string | null = null;
  /** Set while a cancellation is being set up, before its cleanup (workflow code) runs. */
  private settingUpCancel = false;
  /** Set once a failure of the run starts its undos: a cancellation then changes nothing. */
  private compensating = false;
  /** Undos registered by steps with `compensate`, oldest first. */
  private readonly compensations: Array<{
    name: string;
    undo: () => Promise<unknown>;
    done: boolean;
  }> = [];
  /** The run's combinators, by position. */
  private readonly combinators = new Map<number, Combinator>();
  /** Waits asked for, by position: what they wait for, and how many results the code had
   * been handed when it asked (see {@link checkAbandoned}). */
  private readonly waitTargets = new Map<number, WaitTarget & { handedAt: number }>();

  private readonly frontier: ((op: FrontierOp) => void) | null;
  /** The shapes of step results the workflow declares, by step name. */
  private readonly results: Readonly<Record<string, PayloadShape>> | null;
  /** Patch decisions made so far, by id, with where the code first asked. */
  private readonly patches = new Map<string, { applied: boolean; site: string | null }>();
  /** Appended to the keys of the output stream's parts after the first journal segment. */
  private readonly emitSuffix: string;
  /** The journal replayed holds a `run_limit_reached`: the run reached its journal limit and
   * was undoing its steps. Until replay reaches that entry nothing runs live. */
  private readonly limitInHistory: boolean;
  /** Set when the run reaches its journal limit live, with undos registered. */
  private limitHit = false;

  constructor(
    workflow: Workflow<unknown, unknown>,
    spec: RunSpec,
    port: RunPort,
    options: ExecutionOptions = {},
  ) {
    this.runId = spec.runId;
    this.frontier = options.frontier ?? null;
    this.results = workflow.options.results ?? null;
    this.port = port;
    const history = indexHistory(spec.journal);
    this.matcher = new JournalMatcher(
      history,
      (divergence) => this.diverge(divergence),
      options.placeSite,
    );
    const ended = (): boolean => this.scope.ended;
    const busy = (): boolean => this.settingUpCancel;
    this.settlements = new SettlementQueue(history.settlements, {
      get ended() {
        return ended();
      },
      get busy() {
        return busy();
      },
      settlementFor: (entry) => this.settlementFor(entry),
      stalled: (entry) => this.matcher.stalled(entry),
      nextTurn: () => port.nextTurn(),
      drained: () => {
        if (this.scope.timers.size > 0) port.changed();
      },
    });
    this.limitInHistory = spec.journal.some((e) => e.type === "run_limit_reached");
    this.scope = new RunScope(spec.runId, port, this.settlements, spec.journal.length, (e) =>
      this.limitReached(e),
    );
    this.emitSuffix = history.segment === 1 ? "" : `@${history.segment}`;
    this.ctx = new RunWorkflowContext({
      runId: spec.runId,
      workflowName: workflow.name,
      port,
      operation: (kind, name, run, target, shape, succeeded) =>
        this.operation(kind, name, run, target, shape, succeeded),
      compensation: (name, undo) => this.addCompensation(name, undo),
      combine: (kind, k, inputs) => this.combine(kind, k, inputs),
      recordValue: (kind, make) => this.recordValue(kind, make),
      patch: (id, deprecated) => this.patch(id, deprecated),
      onCancel: (cleanup) => this.onCancel(cleanup),
      onQuery: (name, handler) => {
        this.refuseInQuery("register a query");
        this.queries.set(name, handler);
      },
      onUpdate: (name, handler) => this.onUpdate(name, handler),
      emit: (part) => this.emit(part),
      continueAsNew: (input) => this.continueAsNew(workflow, input),
    });
    this.outcome = new Promise((resolve) => (this.settleOutcome = resolve));
    void this.main(workflow, spec.input);
    // On replay, watch from the start that the code asks for what the journal recorded.
    if (this.settlements.replaying) this.settlements.pump();
  }

  /** True once the run has an outcome; nothing it does afterwards is written. */
  get ended(): boolean {
    return this.scope.ended;
  }

  /** True while journaled results remain to be handed to the code, or one is being handed. */
  get replaying(): boolean {
    return this.settlements.busy;
  }

  /** Operations asked for so far. */
  get calls(): number {
    return this.matcher.calls;
  }

  /** The cancellation under way, if any. */
  get cancelling(): Cancellation | null {
    return this.cancellation;
  }

  /**
   * When nothing runs and every pending operation waits (for a timer, or also for the world),
   * the earliest timer; otherwise null. A worker evicts an idle run whose wake-up is far off.
   */
  idleness(): Idleness | null {
    const { scope } = this;
    if (scope.ended || scope.bodies.active || this.settlements.busy || scope.timers.size === 0)
      return null;
    return { wakeAt: scope.timers.earliest(), external: scope.waitsExternally };
  }

  /** Stops the run: timers cancelled, step bodies aborted with `reason`, nothing more written. */
  halt(reason: unknown): void {
    if (this.scope.ended) return;
    this.finish({ kind: "halted" });
    this.scope.bodies.abort(reason);
  }

  /** Stops starting step bodies; resolves once none is running. Used by a graceful close. */
  drain(): Promise<void> {
    return this.scope.drain();
  }

  /**
   * Cancels the run (a request, or its `ttl` passed): running bodies are aborted, waits end,
   * and cleanup registered with `onCancel` runs durably before the run ends. Journaled first,
   * so that replay applies it at the same point.
   */
  requestCancel(cancellation: Cancellation): void {
    const { reason, kind, by } = cancellation;
    if (this.scope.ended || this.cancellation !== null || this.compensating) return;
    // Already journaled (a crash interrupted its cleanup): replay applies it where it was.
    if (this.matcher.history.settlements.some((e) => e.type === "run_cancel_requested")) return;
    this.scope.append({
      type: "run_cancel_requested",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: entryData.run_cancel_requested({ reason, kind, ...(by === undefined ? {} : { by }) }),
    });
    this.settlements.push(() => void this.beginCancel({ reason, kind }));
  }

  /**
   * Answers query `name` from the run's state now, with the handler the code registered.
   * While it runs, the code may not start operations, record values or emit: those throw
   * a QueryRefusedError (before taking a position, so the run goes on as if never asked).
   */
  query(name: string, args: unknown): unknown {
    const handler = this.queries.get(name);
    if (handler === undefined) {
      const names = [...this.queries.keys()];
      throw new QueryNotFoundError(
        `run ${this.runId} has no query '${name}'; ` +
          (names.length === 0
            ? "it registers none (ctx.onQuery) so far"
            : `it registers: ${names.join(", ")}`),
      );
    }
    this.answering = name;
    try {
      const answer = handler(args);
      if (typeof (answer as { then?: unknown } | null)?.then === "function") {
        (answer as Promise<unknown>).then(undefined, () => {});
        throw new QueryRefusedError(
          `query '${name}' of run ${this.runId} returned a promise; query handlers are ` +
            "synchronous and answer from the run's state in memory",
        );
      }
      return answer;
    } finally {
      this.answering = null;
    }
  }

  /** Checks update `name` with `args` against its handler's validator, as the caller's
   * engine does before it sends the update: throws `update_not_found` or `update_rejected`. */
  validateUpdate(name: string, args: unknown): void {
    this.answering = `validate ${name}`;
    try {
      validateUpdate(this.updates, this.runId, name, args);
    } finally {
      this.answering = null;
    }
  }

  private onUpdate(name: string, handler: UpdateHandler): void {
    this.refuseInQuery("register an update");
    const first = this.updates.size === 0;
    this.updates.set(name, handler);
    // The listener's wait takes its place in the run where the first handler is registered.
    if (first) void listenForUpdates(this.ctx, this.updates).catch(() => undefined);
  }

  /** Throws while a query handler runs: it may only read. */
  private refuseInQuery(what: string): void {
    if (this.answering === null) return;
    throw new QueryRefusedError(
      `query '${this.answering}' of run ${this.runId} tried to ${what}; a query only reads ` +
        "the run's state. Do work and change state in the workflow, or in an update",
    );
  }

  /** Registers an undo: run by {@link compensate} on failure, or as cleanup on cancellation. */
  private addCompensation(name: string, undo: () => Promise<unknown>): void {
    const entry = { name, undo, done: false };
    this.compensations.push(entry);
    this.cleanups.push(async () => {
      if (entry.done) return;
      entry.done = true;
      await entry.undo();
    });
  }

  /** Runs the undos not yet run, newest first; returns what failed. */
  private async compensate(): Promise<string[]> {
    const failures: string[] = [];
    for (const entry of [...this.compensations].reverse()) {
      if (entry.done) continue;
      entry.done = true;
      try {
        await entry.undo();
      } catch (e) {
        failures.push(`undo ${entry.name}: ${ensureError(e).message}`);
      }
    }
    return failures;
  }

  private onCancel(cleanup: Cleanup): void {
    this.refuseInQuery("register cleanup (ctx.onCancel)");
    if (typeof cleanup !== "function") throw new InvalidArgumentError("onCancel needs a function");
    this.cleanups.push(cleanup);
  }

  private emit(part: StreamPart): void {
    this.refuseInQuery("emit a part (ctx.emit)");
    if (this.scope.ended) return;
    const data = encodePart(part, "ctx.emit part");
    // The code's order keys the part: a replay passing here again writes nothing new.
    this.port.emit({
      key: `w${this.emitted++}${this.emitSuffix}`,
      at: this.port.clock.now(),
      data,
    });
  }

  private settlementFor(entry: JournalEntry): (() => void) | null {
    if (entry.type === "run_cancel_requested") {
      const data = readEntryData(entry, "run_cancel_requested");
      return () => void this.beginCancel(data);
    }
    if (entry.type === "run_limit_reached")
      return () => void this.failOverLimit(this.scope.limitError());
    const op = this.scope.ops.get(entry.position ?? -1);
    if (op === undefined) return null;
    this.scope.ops.delete(op.position);
    return () => {
      try {
        settleFromJournal(op, entry, this.runId);
      } catch (e) {
        // The code cannot be handed the value it asked for: the run pauses, nothing written.
        if (!isEndureError(e, "upcast_failed")) throw e;
        if (!this.scope.ended) this.finish(pauseOutcome(e, this.port, "upcast_failed"));
      }
    };
  }

  private async main(workflow: Workflow<unknown, unknown>, input: unknown): Promise<void> {
    const generation = this.scope.generation;
    const stale = (): boolean =>
      this.scope.ended || this.scope.generation !== generation || this.checkCompleteReplay();
    let outcome: RunOutcome;
    try {
      const output = await workflow.fn(this.ctx, input);
      if (stale()) return;
      outcome = await finalOutcome(workflow, output, this.port);
    } catch (thrown) {
      if (this.scope.ended || this.scope.generation !== generation) return;
      const error = ensureError(thrown);
      // Undos are operations of the run: they run (and replay) before the journal's end.
      this.compensating = true;
      const failures = await this.compensate();
      if (stale()) return;
      outcome = failureOutcome(this.withUndoFailures(error, failures), this.port);
    }
    if (this.scope.ended || this.scope.generation !== generation) return;
    // Waits the code left open (it moved on without them) leave no registration behind.
    if ([...this.scope.ops.values()].some((op) => op.kind === "wait")) {
      await this.port.cancelWaits();
    }
    if (!this.scope.ended && this.scope.generation === generation) this.finish(outcome);
  }

  private async beginCancel(cancellation: Cancellation): Promise<void> {
    if (this.scope.ended || this.cancellation !== null) return;
    // The run failed and is undoing its steps: a cancellation would abandon the undo under
    // way (never journaled, never run again). The undos go on, and the run ends failed.
    if (this.compensating) return;
    this.cancellation = cancellation;
    const error = cancellationError(this.runId, cancellation);
    // Operations asked for before this point are abandoned: their results are never written.
    this.scope.abandonOps(error);
    this.settingUpCancel = true;
    try {
      await this.port.cancelWaits();
      // Children go with their parent (those started detached stay).
      await this.port.cancelChildren(cancellation.reason);
    } finally {
      this.settingUpCancel = false;
    }
    const cleaned = runCleanups(this.cleanups, cancellation);
    // The cleanup has asked for its first operations: replay may match them now.
    this.settlements.pump();
    const failures = await cleaned;
    if (this.scope.ended) return;
    this.finish(cancelledOutcome(cancellation, error, failures, this.port));
  }

  /** At the end of the code: true (and the run paused) when the journal holds more. */
  private checkCompleteReplay(): boolean {
    if (this.scope.ended) return true;
    return this.matcher.endsEarly(this.settlements.nextJournaled);
  }

  /**
   * An append would pass the journal limit. A run with undos registered journals that it
   * reached the limit, then undoes its steps (their entries may pass the limit) and fails; a
   * run already on its way to its end (undoing, cleaning up) goes on past the limit; any other
   * run fails at once.
   */
  private limitReached(error: JournalLimitError): boolean {
    if (this.scope.ended) return false;
    if (this.compensating || this.cancellation !== null) return true;
    // A replay before the point where the run reached its limit: the entry was not journaled.
    if (this.limitInHistory || this.limitHit) return false;
    if (!this.compensations.some((c) => !c.done)) {
      this.failRun(error);
      return false;
    }
    // From here the code's operations take their places and never run; once the code has
    // had its turn (as on replay, where the journaled entry is handed over in order) the
    // undos begin.
    this.limitHit = true;
    // What the code asked for so far is abandoned, as on a cancellation: nothing it does
    // after the limit reaches the journal or the code.
    this.scope.abandonOps(error);
    this.scope.appendPastLimit({
      type: "run_limit_reached",
      at: this.port.clock.now(),
      position: null,
      key: null,
      data: entryData.run_limit_reached({ entries: this.port.limits.journalEntriesMax }),
    });
    void this.port.nextTurn().then(() => this.failOverLimit(error));
    return false;
  }

  /** True while the code's own operations must not run: the run reached its journal limit
   * and its undos have not begun (on replay: until the journal's `run_limit_reached`). */
  private get heldAtLimit(): boolean {
    return (this.limitInHistory || this.limitHit) && !this.compensating;
  }

  /** The run reached its journal limit with undos registered: they run, then it fails. */
  private async failOverLimit(error: Error): Promise<void> {
    if (this.scope.ended || this.compensating || this.cancellation !== null) return;
    this.compensating = true;
    this.scope.passLimit();
    // What the code asked for before is abandoned, as on a cancellation: only undos go on.
    this.scope.abandonOps(error);
    const failures = await this.compensate();
    if (this.scope.ended) return;
    this.finish(failureOutcome(this.withUndoFailures(error, failures), this.port));
  }

  private withUndoFailures(error: Error, failures: string[]): Error {
    return failures.length === 0
      ? error
      : new CompensationFailedError(
          `run ${this.runId} failed (${error.message}), and undoing its steps failed too: ` +
            `${failures.join("; ")}. The other undos ran; undo the rest by hand, or fix ` +
            "the cause and retry the run",
          failures,
          { cause: error },
        );
  }

  /**
   * `ctx.continueAsNew(input)`: ends the run's journal segment and carries on in a fresh one
   * with `input`. Resolves never; rejects with a typed error when refused or when the input
   * cannot be journaled.
   */
  private async continueAsNew(
    workflow: Workflow<unknown, unknown>,
    input: unknown,
  ): Promise<never> {
    const never = new Promise<never>(() => {});
    this.refuseContinue();
    if (this.scope.ended) return never;
    const generation = this.scope.generation;
    const label = `ctx.continueAsNew input of workflow '${workflow.name}'`;
    const schema = workflow.options.input;
    let value = input;
    if (schema !== undefined) {
      const checked = await validate(schema, input);
      if (!checked.ok) {
        throw new InputValidationError(
          `${label} fails the workflow's input schema: ${checked.issues}. Nothing was ` +
            "journaled; pass an input the workflow accepts",
        );
      }
      value = checked.value;
    }
    const encoded = encodeValue(value, label);
    checkPayloadSize(encoded, this.port.limits.payloadBytesMax, label);
    if (this.scope.ended || this.scope.generation !== generation) return never;
    this.refuseContinue();
    // Replay: the journal holds more than the code asked for before it continued.
    if (this.checkCompleteReplay()) return never;
    const history = this.matcher.history;
    const positions = Math.max(this.matcher.lastPosition, history.lastPosition);
    // Waits the code leaves behind leave no registration (attached children are cancelled).
    if ([...this.scope.ops.values()].some((op) => op.kind === "wait")) {
      await this.port.cancelWaits();
    }
    if (this.scope.ended || this.scope.generation !== generation) return never;
    this.finish({
      kind: "continued",
      entry: {
        type: "run_continued",
        at: this.port.clock.now(),
        position: null,
        key: null,
        data: entryData.run_continued({ segment: history.segment + 1, positions, input: encoded }),
      },
    });
    return never;
  }

  /** Throws where `ctx.continueAsNew` may not be called (see ContinueAsNewRefusedError). */
  private refuseContinue(): void {
    this.refuseInQuery("continue as new (ctx.continueAsNew)");
    const refuse = (why: string, what: string): never => {
      throw new ContinueAsNewRefusedError(
        `run ${this.runId} cannot continue as new ${why}. ${what}; nothing was journaled`,
      );
    };
    if (this.cancellation !== null || this.settingUpCancel)
      refuse("while it is being cancelled", "Let its cleanup end the run");
    if (this.compensating)
      refuse("while it undoes its steps after a failure", "Let the undos end the run");
    if (this.scope.bodies.active) {
      refuse(
        "inside a step body, or while a step body runs",
        "Call ctx.continueAsNew from the workflow function, once the steps it started have ended",
      );
    }
    const undos = this.compensations.filter((c) => !c.done).map((c) => c.name);
    if (undos.length > 0) {
      refuse(
        `while steps have undos registered (${undos.join(", ")}): they belong to the segment ` +
          "that would end, and would never run",
        "Run the steps that register undos in a child run (ctx.invoke), whose undos are its " +
          "own, and continue as new from the parent",
      );
    }
  }

  private failRun(error: Error): void {
    if (!this.scope.ended) this.finish(failureOutcome(error, this.port));
  }

  private finish(outcome: RunOutcome): void {
    this.scope.end();
    this.settleOutcome(outcome);
  }

  private diverge(divergence: Divergence): void {
    const error = divergenceError(this.runId, this.matcher.history, divergence);
    this.finish(pauseOutcome(error, this.port));
  }

  private operation<T>(
    kind: "step" | "sleep" | "wait" | "memory",
    name: string,
    run: OpRun,
    target?: WaitTarget,
    waitShape?: PayloadShape | null,
    succeeded?: (value: unknown) => void,
  ): Promise<T> {
    this.refuseInQuery(`start ${kind} '${name}'`);
    if (this.scope.ended) return new Promise<T>(() => {});
    const claimed = this.matcher.claim(kind, name);
    if (claimed === null) return new Promise<T>(() => {});
    if (target !== undefined) {
      const abandoned = this.checkAbandoned(claimed.key, target);
      if (abandoned !== null) {
        this.failRun(abandoned);
        return new Promise<T>(() => {});
      }
      this.waitTargets.set(claimed.position, {
        ...target,
        handedAt: this.settlements.handedOver,
      });
    }
    let tagged: Op | undefined;
    const shape = kind === "step" ? (this.results?.[name] ?? null) : (waitShape ?? null);
    const promise = new Promise<T>((settle, reject) => {
      const resolve =
        succeeded === undefined
          ? settle
          : (value: T) => {
              succeeded(value);
              settle(value);
            };
      const op: Op = {
        position: claimed.position,
        kind,
        key: claimed.key,
        site: claimed.site,
        generation: this.scope.generation,
        resolve,
        reject,
        ...(shape === null ? {} : { shape }),
      };
      tagged = op;
      this.scope.ops.set(op.position, op);
      const settled = claimed.prior?.some((e) => SETTLING_TYPES.has(e.type)) ?? false;
      if (settled) this.settlements.pump();
      else if (this.heldAtLimit) {
        // Nothing of it was journaled before the run reached its limit: it stays pending.
      } else if (this.frontier !== null) {
        const started = claimed.prior !== undefined && claimed.prior.length > 0;
        this.frontier({ position: op.position, kind, key: op.key, started });
      } else
        void run(this.scope, op, claimed.prior).catch((e: unknown) => this.failRun(ensureError(e)));
    });
    if (tagged !== undefined) this.scope.tagPromise(promise, tagged);
    return promise;
  }

  /** The settling entry the journal holds for `position`, if any. */
  private journaledSettling(position: number): JournalEntry | undefined {
    return this.matcher.history.byPosition.get(position)?.find((e) => SETTLING_TYPES.has(e.type));
  }

  /**
   * A wait for something an earlier wait of the run still waits for, asked for after the
   * code was handed a result that came after that earlier wait: the earlier one was left
   * behind (a plain Promise.race) and would take what the new one waits for. Refused.
   */
  private checkAbandoned(key: string, target: WaitTarget): AbandonedWaitError | null {
    for (const [position, earlier] of this.waitTargets) {
      if (earlier.kind !== target.kind || earlier.target !== target.target) continue;
      const op = this.scope.ops.get(position);
      if (op === undefined || !this.scope.isCurrent(op)) {
        this.waitTargets.delete(position);
        continue;
      }
      if (this.scope.liveSettlement(position) !== undefined) continue;
      if (this.journaledSettling(position) !== undefined) continue;
      if (earlier.handedAt >= this.settlements.handedOver) continue;
      const what =
        target.kind === "event"
          ? `event '${target.target}'`
          : target.kind === "signal"
            ? `signal '${target.target}'`
            : `approval '${target.target}'`;
      return new AbandonedWaitError(
        `run ${this.runId}: wait '${key}' asks for ${what} while the earlier wait '${op.key}' ` +
          "for it is still open, although the code moved on past it (a plain Promise.race " +
          "leaves the losing wait open, and it would take what the new wait is for). Use " +
          "ctx.race([...]) instead of Promise.race: it withdraws the waits that lose. To wait " +
          "for both, ask for them together before awaiting either",
      );
    }
    return null;
  }

  private combine(kind: CombinatorKind, k: number, inputs: readonly unknown[]): Promise<unknown> {
    this.refuseInQuery(`combine operations (ctx.${kind})`);
    try {
      checkCombinator(kind, k, inputs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (kind === "all" && inputs.length === 0) return Promise.resolve([]);
    if (this.scope.ended) return new Promise(() => {});
    const claimed = this.matcher.claim("combinator", kind);
    if (claimed === null) return new Promise(() => {});
    let combinator: Combinator | undefined;
    const promise = new Promise<unknown>((resolve, reject) => {
      const op: Op = {
        position: claimed.position,
        kind: "combinator",
        key: claimed.key,
        site: claimed.site,
        generation: this.scope.generation,
        resolve,
        reject,
      };
      combinator = new Combinator(
        {
          scope: this.scope,
          journaled: (position) => this.journaledSettling(position),
          combinatorAt: (position) => this.combinators.get(position),
          fail: (e) => this.failRun(ensureError(e)),
        },
        op,
        kind,
        k,
        inputs,
      );
      const c = combinator;
      op.fromJournal = (entry) => c.fromJournal(entry);
      this.combinators.set(op.position, c);
      this.scope.ops.set(op.position, op);
    });
    if (combinator === undefined) return promise;
    this.scope.tagPromise(promise, combinator.op);
    const decided = claimed.prior?.some((e) => SETTLING_TYPES.has(e.type)) ?? false;
    if (decided) this.settlements.pump();
    // Replay only: a combinator the journal has not decided stays pending, like its members.
    else if (this.frontier === null && !this.heldAtLimit) combinator.start();
    return promise;
  }

  /**
   * `ctx.patched(id)` (`deprecated` false) and `ctx.deprecatePatch(id)` (true): whether the
   * run takes the patch's new branch, the same answer for every call in one run.
   */
  private patch(id: string, deprecated: boolean): boolean {
    const site = callSite();
    const known = this.patches.get(id);
    if (known !== undefined) {
      if (known.site !== null && site !== null && known.site !== site) {
        throw new InvalidArgumentError(
          `patch id '${id}' is used at two places (${known.site} and ${site}); a patch id ` +
            "marks one change: give each patched place its own id, and never reuse a retired one",
        );
      }
      return known.applied;
    }
    if (this.scope.ended) return true;
    const asked = deprecated ? `ctx.deprecatePatch('${id}')` : `ctx.patched('${id}')`;
    const decision = this.matcher.patch(id, asked);
    if (decision === null) return true;
    if (decision.kind === "old" && deprecated) {
      // The run needs the old branch, which the code no longer has.
      this.matcher.diverge(
        this.matcher.lastPosition + 1,
        `${asked}, but this run passed that point on the code before the patch and needs ` +
          `its old branch: the patch was deprecated too early. Bring back ctx.patched('${id}') ` +
          "with the old branch until no run started before the patch is in flight (endure check lists them)",
      );
      return true;
    }
    const applied = decision.kind !== "old";
    this.patches.set(id, { applied, site });
    if (decision.kind === "new") {
      this.scope.append({
        type: "patch_applied",
        at: this.port.clock.now(),
        position: decision.position,
        key: id,
        data: entryData.patch_applied({ deprecated }),
      });
    }
    return applied;
  }

  private recordValue(kind: ValueKind, make: () => number | string): number | string {
    this.refuseInQuery(`call ctx.${kind}(), which records a value`);
    if (this.scope.ended) return make();
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
    if (recorded !== undefined) return readEntryData(recorded, "value_recorded");
    const value = make();
    this.scope.append({
      type: "value_recorded",
      at: this.port.clock.now(),
      position: claimed.position,
      key: claimed.key,
      data: entryData.value_recorded(value),
    });
    return value;
  }
}
