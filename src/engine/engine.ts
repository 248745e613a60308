// The engine: the composition root users hold. It registers workflows, starts runs, reads
// them back, and owns the worker that executes them.
import type { Clock } from "../core/clock.js";
import { parseDuration } from "../core/duration.js";
import {
  DuplicateWorkflowError,
  EngineClosedError,
  InputValidationError,
  InvalidArgumentError,
  RunCancelledError,
  RunIdConflictError,
  RunNotFoundError,
  WorkflowNotFoundError,
} from "../core/errors.js";
import { concurrencyKeyOf, priorityOf } from "../core/flow-control.js";
import type { NewEntry } from "../core/journal.js";
import {
  HEALTH_CHECK_MS_MAX,
  LIST_RUNS_LIMIT_DEFAULT,
  RETENTION_MS_DEFAULT,
  LIST_RUNS_LIMIT_MAX,
  PRIORITY_DEFAULT,
  RESULT_POLL_MS_MAX,
  RUN_ID_LENGTH_MAX,
  STREAM_READ_LIMIT_DEFAULT,
  STREAM_READ_LIMIT_MAX,
} from "../core/limits.js";
import type { RunLimits } from "../core/run-port.js";
import { validate } from "../core/schema.js";
import { checkPayloadSize, encodeValue } from "../core/serialize.js";
import { TERMINAL_STATUSES, type RunStatus } from "../core/types.js";
import type { Workflow } from "../core/workflow.js";
import type { RunRecord, Store } from "../store/store.js";
import { Committer } from "../worker/committer.js";
import { newRunId } from "../worker/ids.js";
import type { RunExit } from "../worker/run-host.js";
import { systemClock } from "../worker/system-clock.js";
import { cronOf } from "../worker/starters.js";
import { explain, type Explanation } from "./explain.js";
import { GC_SCHEDULE_DEFAULT, GC_WORKFLOW, gcWorkflow, type GcResult } from "./retention.js";
import { Worker } from "../worker/worker.js";
import {
  decide,
  sendEvent,
  sendSignal,
  toPendingApproval,
  type DecisionOptions,
  type EventToSend,
  type MessageParts,
  type PendingApproval,
  type SentEvent,
} from "./messages.js";
import {
  runLimitsOf,
  workerSettingsOf,
  type AnyWorkflow,
  type EngineOptions,
  type Logger,
} from "./options.js";
import {
  followStream,
  StreamWaiters,
  toStreamChunk,
  type StreamChunk,
  type StreamOptions,
} from "./output-stream.js";
import {
  toJournalRecord,
  toRunInfo,
  outcomeOf,
  type JournalRecord,
  type RunInfo,
} from "./views.js";

/** Options of `engine.start`. */
export interface StartOptions {
  /** The run's id: an idempotency key. A second start with the same id returns the same run. */
  id?: string;
  /** Claimed before runs of lower priority (from -1,000 to 1,000). Default: the workflow's, else 0. */
  priority?: number;
}

/** A started run. */
export interface RunHandle<O> {
  readonly id: string;
  /** False when a run with this id existed already and was returned instead. */
  readonly created: boolean;
  /** Waits for the run to end: its output, or its error thrown (`RunCancelledError` if cancelled). */
  result(): Promise<O>;
  /** The run as stored now. */
  info(): Promise<RunInfo<O>>;
  /** Cancels the run. */
  cancel(reason?: string): Promise<RunInfo<O>>;
  /**
   * The run's output stream, from `options.from` (default 0): every part once, in order,
   * waiting for more while the run goes on; it ends when the run has ended. After a
   * disconnect or a crash, re-attach with `from` one past the last offset received.
   *
   * @example
   * ```ts
   * for await (const { offset, part } of run.stream({ from: lastSeen + 1 })) {
   *   if (part.type === "text-delta") process.stdout.write(String(part.delta));
   *   lastSeen = offset;
   * }
   * ```
   */
  stream(options?: StreamOptions): AsyncIterable<StreamChunk>;
}

/** Options of `engine.readStream`. */
export interface ReadStreamOptions {
  /** First offset to read (default 0). */
  from?: number;
  /** Most parts to return, default 256, at most 1,000. */
  limit?: number;
}

/**
 * What {@link Engine.health} reports.
 *
 * @example
 * ```ts
 * const { ok, store, runsInMemory } = await engine.health();
 * if (!ok) console.warn(`store: ${store.error ?? "slow"}, ${runsInMemory} runs in memory`);
 * ```
 */
export interface EngineHealth {
  /** The store answered, the worker's claims are not failing, and the engine is not closing. */
  readonly ok: boolean;
  readonly workerId: string | null;
  readonly runsInMemory: number;
  readonly closing: boolean;
  /** Whether a read of the store worked just now, how long it took, and why not. */
  readonly store: {
    readonly ok: boolean;
    readonly latencyMs: number;
    readonly error: string | null;
  };
  /** Claim rounds that failed in a row (the worker is backing off while this is above 0). */
  readonly storeFailuresInRow: number;
}

/** Filter of `engine.listRuns`. */
export interface ListRunsOptions {
  workflow?: string;
  status?: RunStatus;
  /** Page size, default 100, at most 1,000. */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
}

const defaultLogger: Logger = { warn: (message) => console.warn(`[endure] ${message}`) };

/**
 * Opens the store, runs its migrations, and (unless `worker: false`) starts a worker that
 * recovers unfinished runs and executes new ones.
 *
 * @example
 * ```ts
 * const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows: [greet] });
 * const run = await engine.start(greet, { name: "Ada" }, { id: "greet-ada" });
 * console.log(await run.result());
 * await engine.close();
 * ```
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const engine = new Engine(options);
  await engine.open();
  return engine;
}

/** A durable execution engine over one store. Create it with {@link createEngine}. */
export class Engine {
  readonly store: Store;
  readonly clock: Clock;
  private readonly workflows = new Map<string, AnyWorkflow>();
  private readonly limits: RunLimits;
  private readonly logger: Logger;
  private readonly worker: Worker | null;
  private readonly committer: Committer;
  private readonly exitWaiters = new Map<string, Set<(exit: RunExit) => void>>();
  private readonly streamWaiters = new StreamWaiters();
  private closed = false;
  private readonly retentionMs: number;
  private readonly messageParts: MessageParts;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? defaultLogger;
    this.limits = runLimitsOf(options.limits);
    for (const wf of options.workflows ?? []) {
      if (this.workflows.has(wf.name)) {
        throw new DuplicateWorkflowError(
          `two workflows are registered under the name '${wf.name}'; workflow names must be unique`,
        );
      }
      if (wf.name === GC_WORKFLOW)
        throw new DuplicateWorkflowError(
          `the workflow name '${GC_WORKFLOW}' is reserved for retention`,
        );
      cronOf(wf);
      this.workflows.set(wf.name, wf);
    }
    this.retentionMs =
      options.retention === undefined
        ? RETENTION_MS_DEFAULT
        : parseDuration(options.retention, "retention");
    const gcSchedule = options.gcSchedule === undefined ? GC_SCHEDULE_DEFAULT : options.gcSchedule;
    if (options.worker !== false)
      this.workflows.set(GC_WORKFLOW, gcWorkflow(this.store, this.retentionMs, gcSchedule));
    const settings = workerSettingsOf(options.worker, options.waitTimeout);
    this.worker =
      settings === null
        ? null
        : new Worker(
            this.store,
            this.workflows as Map<string, Workflow<unknown, unknown>>,
            this.clock,
            this.limits,
            settings,
            {
              exited: (runId, exit) => this.notifyExit(runId, exit),
              warn: (m) => this.logger.warn(m),
              streamed: (runId) => this.streamWaiters.notify(runId),
            },
          );
    this.committer =
      this.worker?.committer ??
      new Committer(this.store, this.clock, { fenced: () => {}, failed: () => {} });
    this.messageParts = {
      store: this.store,
      clock: this.clock,
      limits: this.limits,
      woke: (refs) => this.worker?.woke(refs),
      triggered: () => this.worker?.kick(),
    };
  }

  /** Opens the store and starts the worker. Called by {@link createEngine}. */
  async open(): Promise<void> {
    await this.store.open();
    await this.worker?.start();
  }

  /** This engine's worker id, or null for a client engine. */
  get workerId(): string | null {
    return this.worker?.settings.workerId ?? null;
  }

  /**
   * Starts a run of `workflow` (a definition or a registered name) with `input`. Idempotent on
   * `options.id`: starting an existing id returns that run (`created: false`).
   */
  async start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions = {},
  ): Promise<RunHandle<O>> {
    this.checkOpen();
    const wf = this.resolve(workflow) as Workflow<unknown, O>;
    const id = options.id ?? newRunId(this.clock.now());
    if (typeof id !== "string" || id.length === 0 || id.length > RUN_ID_LENGTH_MAX) {
      throw new InvalidArgumentError(
        `run id must be a non-empty string of at most ${RUN_ID_LENGTH_MAX} characters`,
      );
    }
    let value: unknown = input;
    if (wf.options.input !== undefined) {
      const checked = await validate(wf.options.input, input);
      if (!checked.ok)
        throw new InputValidationError(
          `input of workflow '${wf.name}' fails its schema: ${checked.issues}; nothing was started`,
        );
      value = checked.value;
    }
    const priority = priorityOf(
      options.priority,
      wf.options.priority ?? PRIORITY_DEFAULT,
      "start priority",
    );
    const concurrencyKey = concurrencyKeyOf(wf.options.concurrency, value, wf.name);
    const what = `input of workflow '${wf.name}'`;
    const encoded = encodeValue(value, what);
    checkPayloadSize(encoded, this.limits.payloadBytesMax, what);
    const started: NewEntry = {
      type: "run_started",
      at: this.clock.now(),
      position: null,
      key: null,
      data: JSON.stringify({ workflow: wf.name, version: wf.options.version ?? null }),
    };
    // A limited run is claimed like any other, so that its limit is counted across workers.
    const canRun =
      this.worker !== null &&
      this.worker.capacity > 0 &&
      this.workflows.get(wf.name) === wf &&
      concurrencyKey === null;
    const claim =
      canRun && this.worker !== null
        ? { workerId: this.worker.settings.workerId, leaseMs: this.worker.settings.leaseMs }
        : null;
    const result = await this.committer.create({
      id,
      workflow: wf.name,
      version: wf.options.version ?? null,
      input: encoded,
      started,
      claim,
      priority,
      concurrencyKey,
      deadlineAt:
        wf.options.ttl === undefined
          ? null
          : this.clock.now() + parseDuration(wf.options.ttl, "ttl"),
    });
    if (!result.created && result.run.workflow !== wf.name) {
      throw new RunIdConflictError(
        `run id '${id}' already belongs to a run of workflow '${result.run.workflow}', not '${wf.name}'; choose another id`,
      );
    }
    if (result.created && claim !== null) this.worker?.adoptNew(result.run, started);
    else if (result.created) this.worker?.kick();
    return this.handleOf<O>(id, result.created);
  }

  /** A handle on an existing run, by id. */
  handle<O = unknown>(runId: string): RunHandle<O> {
    return this.handleOf<O>(runId, false);
  }

  /** The run as stored, or null when no run has this id. */
  async getRun<O = unknown>(runId: string): Promise<RunInfo<O> | null> {
    const run = await this.store.getRun(runId);
    return run === null ? null : toRunInfo<O>(run);
  }

  /** Runs, newest first, optionally of one workflow or status; page with `cursor`. */
  async listRuns(options: ListRunsOptions = {}): Promise<{ runs: RunInfo[]; next: string | null }> {
    const limit = options.limit ?? LIST_RUNS_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_RUNS_LIMIT_MAX) {
      throw new InvalidArgumentError(
        `listRuns limit must be a whole number from 1 to ${LIST_RUNS_LIMIT_MAX}, got ${String(limit)}`,
      );
    }
    const page = await this.store.listRuns({
      limit,
      ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
    });
    return { runs: page.runs.map((r) => toRunInfo(r)), next: page.next };
  }

  /** The run's journal: every fact it recorded, in order, with decoded details. */
  async journal(runId: string): Promise<JournalRecord[]> {
    const entries = await this.store.readJournal(runId);
    if (entries.length === 0 && (await this.store.getRun(runId)) === null) {
      throw new RunNotFoundError(`no run has the id '${runId}'`);
    }
    return entries.map(toJournalRecord);
  }

  /**
   * One page of a run's output stream: up to `limit` parts from offset `from`, in order
   * (empty past the end). `handle.stream()` follows a stream as it grows.
   *
   * @example
   * ```ts
   * const page = await engine.readStream(runId, { from: 0, limit: 100 });
   * ```
   */
  async readStream(runId: string, options: ReadStreamOptions = {}): Promise<StreamChunk[]> {
    const from = options.from ?? 0;
    const limit = options.limit ?? STREAM_READ_LIMIT_DEFAULT;
    if (!Number.isInteger(from) || from < 0) {
      throw new InvalidArgumentError(
        `readStream from must be a whole number of at least 0, got ${String(from)}`,
      );
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > STREAM_READ_LIMIT_MAX) {
      throw new InvalidArgumentError(
        `readStream limit must be a whole number from 1 to ${STREAM_READ_LIMIT_MAX}, got ${String(limit)}`,
      );
    }
    const stored = await this.store.readStream(runId, from, limit);
    if (stored.length === 0 && (await this.store.getRun(runId)) === null) {
      throw new RunNotFoundError(`no run has the id '${runId}'`);
    }
    return stored.map(toStreamChunk);
  }

  /** Cancels a run that has not ended. A run that already ended is returned unchanged. */
  async cancel(runId: string, reason = "cancelled by request"): Promise<RunInfo> {
    this.checkOpen();
    const error = encodeValue(
      new RunCancelledError(`run ${runId} was cancelled: ${reason}`),
      "cancel error",
    );
    const entry: NewEntry = {
      type: "run_cancelled",
      at: this.clock.now(),
      position: null,
      key: null,
      data: JSON.stringify({ reason }),
    };
    const cancellation = { reason, kind: "cancelled" as const };
    const result = await this.store.cancel(runId, { cancellation, entry, error }, this.clock.now());
    if (result.kind === "not_found")
      throw new RunNotFoundError(`cannot cancel: no run has the id '${runId}'`);
    if (result.kind === "requested") {
      if (this.worker?.holds(runId) === true) this.worker.cancelLocal(runId, cancellation);
      else this.worker?.kick();
    }
    if (result.kind === "cancelled") this.notifyExit(runId, { kind: "left" });
    return toRunInfo(result.run);
  }

  /**
   * Sends an event: stored once per id, delivered to every run waiting for a matching one
   * (also to those that reach their wait later), and starting runs of workflows `on` it.
   *
   * @example
   * ```ts
   * await engine.sendEvent({ name: "email.replied", data: { threadId: "t-9" }, id: "msg-123" });
   * ```
   */
  sendEvent(event: EventToSend): Promise<SentEvent> {
    this.checkOpen();
    return sendEvent(this.messageParts, event);
  }

  /** Sends a signal to one run; it is buffered until the run reads it with `ctx.waitForSignal`. */
  signal(runId: string, name: string, data?: unknown): Promise<void> {
    this.checkOpen();
    return sendSignal(this.messageParts, runId, name, data);
  }

  /** Open approvals, oldest first, with what is being approved and the decisions so far. */
  async approvals(options: { runId?: string; limit?: number } = {}): Promise<PendingApproval[]> {
    const limit = options.limit ?? LIST_RUNS_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_RUNS_LIMIT_MAX) {
      throw new InvalidArgumentError(
        `approvals limit must be a whole number from 1 to ${LIST_RUNS_LIMIT_MAX}`,
      );
    }
    const records = await this.store.listApprovals({
      limit,
      ...(options.runId !== undefined ? { runId: options.runId } : {}),
    });
    return records.map(toPendingApproval);
  }

  /**
   * Approves the run's open approval `name`. Returns `settled` when this decision settled it,
   * `recorded` when more are needed (quorum). Deciding twice is refused.
   */
  approve(runId: string, name: string, options: DecisionOptions): Promise<"recorded" | "settled"> {
    this.checkOpen();
    return decide(this.messageParts, runId, name, true, options);
  }

  /** Rejects the run's open approval `name`: a single rejection settles it. */
  reject(runId: string, name: string, options: DecisionOptions): Promise<"recorded" | "settled"> {
    this.checkOpen();
    return decide(this.messageParts, runId, name, false, options);
  }

  /**
   * Where the run is and why: a structured state and one plain sentence, such as
   * "waiting for approval 'publish' since 2h 3m; times out in 6d 21h".
   */
  async explain(runId: string): Promise<Explanation> {
    const run = await this.store.getRun(runId);
    if (run === null) throw new RunNotFoundError(`cannot explain: no run has the id '${runId}'`);
    const [journal, approvals] = await Promise.all([
      this.store.readJournal(runId),
      this.store.listApprovals({ limit: LIST_RUNS_LIMIT_MAX, runId }),
    ]);
    return explain(run, journal, approvals, this.clock.now());
  }

  /**
   * Deletes finished runs and spent events older than the retention period (default 30 days),
   * as a run of the built-in `endure.gc` workflow, whose journal records what it deleted. The
   * engine also runs it daily. Needs a worker engine on the store to execute it.
   */
  async gc(): Promise<GcResult> {
    this.checkOpen();
    const wf = this.workflows.get(GC_WORKFLOW) ?? gcWorkflow(this.store, this.retentionMs, null);
    const run = await this.start(wf as Workflow<unknown, GcResult>, undefined, {
      id: `${GC_WORKFLOW}@manual:${new Date(this.clock.now()).toISOString()}`,
    });
    return run.result();
  }

  /** Makes a paused run (non-determinism, crash loop) runnable again. */
  async resume(runId: string): Promise<RunInfo> {
    this.checkOpen();
    const entry: NewEntry = {
      type: "run_resumed",
      at: this.clock.now(),
      position: null,
      key: null,
      data: JSON.stringify({ by: "request" }),
    };
    const result = await this.store.resume(runId, entry, this.clock.now());
    if (result.kind === "not_found")
      throw new RunNotFoundError(`cannot resume: no run has the id '${runId}'`);
    if (result.kind === "not_paused") {
      throw new InvalidArgumentError(
        `run ${runId} is ${result.run.status}, not paused; only paused runs can be resumed`,
      );
    }
    this.worker?.kick();
    return toRunInfo(result.run);
  }

  /**
   * Checks the engine for a health endpoint: one read of the store, and the worker's state.
   *
   * @example
   * ```ts
   * const health = await engine.health();
   * res.writeHead(health.ok ? 200 : 503).end(JSON.stringify(health));
   * ```
   */
  async health(): Promise<EngineHealth> {
    const started = performance.now();
    let error: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the store did not answer within ${HEALTH_CHECK_MS_MAX} ms`)),
        HEALTH_CHECK_MS_MAX,
      );
    });
    try {
      await Promise.race([this.store.nextWakeAt(), late]);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(timer);
    }
    const state = this.worker?.state ?? { storeFailuresInRow: 0, closing: false };
    const closing = this.closed || state.closing;
    return {
      ok: error === null && state.storeFailuresInRow === 0 && !closing,
      workerId: this.workerId,
      runsInMemory: this.worker?.runsInMemory ?? 0,
      closing,
      store: { ok: error === null, latencyMs: Math.round(performance.now() - started), error },
      storeFailuresInRow: state.storeFailuresInRow,
    };
  }

  /** Stops the worker gracefully (running steps finish, runs are handed back) and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker?.close();
    await this.committer.flushAll();
    for (const waiters of this.exitWaiters.values()) for (const w of waiters) w({ kind: "left" });
    await this.store.close();
  }

  // ---- internals ------------------------------------------------------------------------

  private resolve(workflow: AnyWorkflow | string): AnyWorkflow {
    if (typeof workflow === "string") {
      const wf = this.workflows.get(workflow);
      if (wf === undefined) throw new WorkflowNotFoundError(this.unknownMessage(workflow));
      return wf;
    }
    if (typeof workflow !== "object" || workflow === null || typeof workflow.name !== "string") {
      throw new InvalidArgumentError(
        "start needs a workflow (made with workflow()) or a registered workflow name",
      );
    }
    if (this.worker !== null && this.workflows.get(workflow.name) !== workflow) {
      throw new WorkflowNotFoundError(this.unknownMessage(workflow.name));
    }
    return workflow;
  }

  private unknownMessage(name: string): string {
    const known =
      [...this.workflows.keys()]
        .filter((n) => n !== GC_WORKFLOW)
        .map((n) => `'${n}'`)
        .join(", ") || "none";
    return `no workflow '${name}' is registered on this engine (registered: ${known}); pass it in createEngine({ workflows: [...] })`;
  }

  private checkOpen(): void {
    if (this.closed)
      throw new EngineClosedError("this engine is closed; create a new one with createEngine");
  }

  private handleOf<O>(id: string, created: boolean): RunHandle<O> {
    return {
      id,
      created,
      result: () => this.result<O>(id),
      info: async () => {
        const info = await this.getRun<O>(id);
        if (info === null) throw new RunNotFoundError(`no run has the id '${id}'`);
        return info;
      },
      cancel: (reason?: string) => this.cancel(id, reason) as Promise<RunInfo<O>>,
      stream: (options?: StreamOptions) => this.follow(id, options),
    };
  }

  private follow(runId: string, options: StreamOptions = {}): AsyncIterable<StreamChunk> {
    const from = options.from ?? 0;
    if (!Number.isInteger(from) || from < 0) {
      throw new InvalidArgumentError(
        `stream from must be a whole number of at least 0, got ${String(from)}`,
      );
    }
    return followStream(
      {
        read: (id, offset, limit) => this.store.readStream(id, offset, limit),
        ended: async (id) => {
          const run = await this.store.getRun(id);
          if (run === null) throw new RunNotFoundError(`no run has the id '${id}'`);
          return TERMINAL_STATUSES.has(run.status);
        },
        changed: (id, ms, signal) => this.streamWaiters.wait(id, this.closed ? 0 : ms, signal),
      },
      runId,
      options,
    );
  }

  private async result<O>(runId: string): Promise<O> {
    let delayMs = 10;
    for (;;) {
      if (this.closed)
        throw new EngineClosedError(`the engine closed while waiting for run ${runId}`);
      const exit = this.nextExit(runId);
      if (this.worker?.holds(runId) === true) {
        // Executing here: its exit will be announced, no need to read the store first.
        const got = await exit.wait(RESULT_POLL_MS_MAX);
        if (got?.kind === "ended") return outcomeOf<O>(got.status, got.output, got.error);
        continue;
      }
      let run: RunRecord | null;
      try {
        run = await this.store.getRun(runId);
      } catch (e) {
        exit.cancel();
        throw e;
      }
      if (run === null) {
        exit.cancel();
        throw new RunNotFoundError(`no run has the id '${runId}'`);
      }
      if (TERMINAL_STATUSES.has(run.status)) {
        exit.cancel();
        return outcomeOf<O>(run.status, run.output, run.error);
      }
      const local = this.worker?.holds(runId) ?? false;
      const got = await exit.wait(local ? RESULT_POLL_MS_MAX : delayMs);
      if (got?.kind === "ended") return outcomeOf<O>(got.status, got.output, got.error);
      if (got === null) delayMs = Math.min(delayMs * 2, RESULT_POLL_MS_MAX);
    }
  }

  private nextExit(runId: string): {
    wait: (ms: number) => Promise<RunExit | null>;
    cancel: () => void;
  } {
    let set = this.exitWaiters.get(runId);
    if (set === undefined) this.exitWaiters.set(runId, (set = new Set()));
    const waiters = set;
    let resolve: (exit: RunExit | null) => void = () => {};
    let got: RunExit | null | undefined;
    const listener = (exit: RunExit): void => {
      got = exit;
      resolve(exit);
    };
    waiters.add(listener);
    const cancel = (): void => {
      waiters.delete(listener);
      if (waiters.size === 0 && this.exitWaiters.get(runId) === waiters)
        this.exitWaiters.delete(runId);
    };
    const wait = (ms: number): Promise<RunExit | null> => {
      if (got !== undefined) {
        cancel();
        return Promise.resolve(got);
      }
      return new Promise((r) => {
        const timer = setTimeout(() => r(null), ms);
        resolve = (exit) => {
          clearTimeout(timer);
          r(exit);
        };
      }).finally(cancel) as Promise<RunExit | null>;
    };
    return { wait, cancel };
  }

  private notifyExit(runId: string, exit: RunExit): void {
    this.streamWaiters.notify(runId);
    const waiters = this.exitWaiters.get(runId);
    if (waiters === undefined) return;
    for (const w of [...waiters]) w(exit);
  }
}
