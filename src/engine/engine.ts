// The engine: the composition root users hold. It registers workflows, starts runs, reads
// them back, and owns the worker that executes them.
import { checkRunId } from "../core/text.js";
import type { Clock } from "../core/clock.js";
import { parseDuration } from "../core/duration.js";
import { EngineClosedError, InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import { RETENTION_MS_DEFAULT } from "../core/limits.js";
import type { RunLimits } from "../core/run-port.js";
import type { Workflow } from "../core/workflow.js";
import { createLogger, toStructuredLogger, type StructuredLogger } from "../observe/logger.js";
import { createTelemetry, type EngineTelemetry } from "../observe/observers.js";
import type { Store } from "../store/store.js";
import { Committer } from "../worker/committer.js";
import type { RunExit } from "../worker/run-host.js";
import { systemClock } from "../worker/system-clock.js";
import { Worker } from "../worker/worker.js";
import type { Explanation } from "./explain.js";
import { checkHealth, type EngineHealth } from "./health.js";
import {
  decide,
  sendEvent,
  sendSignal,
  type DecisionOptions,
  type EventToSend,
  type MessageParts,
  type PendingApproval,
  type SentEvent,
} from "./messages.js";
import {
  memoryKey,
  memoryNamespace,
  memoryNamespaces,
  type MemoryKeyHandle,
  type MemoryNamespaceHandle,
  type MemoryNamespaceInfo,
} from "./memory.js";
import {
  blobThresholdOf,
  memoryRetentionOf,
  runLimitsOf,
  workerSettingsOf,
  type AnyWorkflow,
  type EngineOptions,
} from "./options.js";
import {
  followRunStream,
  readStreamPage,
  StreamWaiters,
  type ReadStreamOptions,
  type StreamChunk,
  type StreamOptions,
} from "./output-stream.js";
import { trackOpenEngine } from "./open-engines.js";
import { queryRun } from "./query.js";
import { updateRun, type UpdateSendOptions } from "./update.js";
import { registerWorkflows, resolveWorkflow, type Registry } from "./registry.js";
import { GC_SCHEDULE_DEFAULT, GC_WORKFLOW, gcWorkflow, type GcResult } from "./retention.js";
import { chainedStore, type ChainedStore } from "../protect/chained-store.js";
import type { VerifyReport } from "../protect/hash-chain.js";
import { sealedStore } from "../protect/sealed-store.js";
import type { Codec } from "../protect/codec.js";
import { blobbedStore, blobStoreOf } from "../protect/blobs.js";
import { redactor, type Redactor } from "../observe/redact.js";
import { rotateKeys, type RotationReport } from "../protect/rotate.js";
import { shredRun, type ShredReport } from "../protect/shred.js";
import { cancelRun, resumeRun, retryRun, type AdminParts } from "./run-admin.js";
import { forkRun, rewindRun, type ForkOptions, type RewindOptions } from "./rewind-fork.js";
import { RunExits, waitForResult } from "./run-exits.js";
import {
  explainRun,
  listApprovals,
  listRuns,
  readJournal,
  readJournalPage,
  type JournalPage,
  type ListRunsOptions,
} from "./run-reads.js";
import { startRun, type StartOptions, type StartParts } from "./start-run.js";
import { toRunInfo, type JournalRecord, type RunInfo } from "./views.js";

export type { EngineHealth } from "./health.js";
export type { ReadStreamOptions } from "./output-stream.js";
export type { JournalPage, ListRunsOptions } from "./run-reads.js";
export type { StartOptions } from "./start-run.js";

/** A started run. */
export interface RunHandle<O> {
  readonly id: string;
  /** False when a run with this id existed already and was returned instead. */
  readonly created: boolean;
  /**
   * Waits for the run to end: its output, or its error thrown (`RunCancelledError` if
   * cancelled). With `signal`, stops waiting when it aborts (rejecting with its reason); the
   * run goes on.
   *
   * @example
   * ```ts
   * const output = await run.result({ signal: AbortSignal.timeout(5_000) });
   * ```
   */
  result(options?: { signal?: AbortSignal }): Promise<O>;
  /** The run as stored now. */
  info(): Promise<RunInfo<O>>;
  /** Cancels the run. */
  cancel(reason?: string): Promise<RunInfo<O>>;
  /**
   * Sends the run a signal; it is buffered until the run reads it with `ctx.waitForSignal`.
   *
   * @example
   * ```ts
   * await run.signal("pause-outreach", { until: "monday" });
   * ```
   */
  signal(name: string, data?: unknown): Promise<void>;
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
  private readonly chain: ChainedStore;
  private readonly codec: Codec | undefined;
  private readonly redaction: Redactor;
  readonly clock: Clock;
  /** By name, the version new runs take. */
  private readonly workflows: Map<string, AnyWorkflow>;
  private readonly registry: Registry;
  private readonly limits: RunLimits;
  private readonly log: StructuredLogger;
  private readonly telemetry: EngineTelemetry;
  private readonly worker: Worker | null;
  private readonly committer: Committer;
  private readonly exits = new RunExits();
  private readonly streamWaiters = new StreamWaiters();
  private closed = false;
  private untrack: () => void = () => {};
  private readonly retentionMs: number;
  private readonly messageParts: MessageParts;
  private readonly parts: StartParts & AdminParts;

  constructor(options: EngineOptions) {
    // Outermost the codec (payloads sealed before they are hashed), then the hash chain, which
    // every engine reads through so that chained entries reach no decoder with their hashes.
    const blobs = blobStoreOf(options.blobs, options.store);
    const stored =
      blobs === null
        ? options.store
        : blobbedStore(options.store, blobs, blobThresholdOf(options.limits));
    this.chain = chainedStore(stored, options.hashChain ?? false);
    this.store = options.codec === undefined ? this.chain : sealedStore(this.chain, options.codec);
    this.codec = options.codec;
    this.clock = options.clock ?? systemClock;
    this.redaction = redactor(options.redact);
    this.log = toStructuredLogger(options.logger ?? createLogger());
    this.limits = runLimitsOf(options.limits, blobs !== null);
    this.registry = registerWorkflows(options.workflows ?? [], options.defaultVersions);
    this.workflows = this.registry.defaults;
    this.retentionMs =
      options.retention === undefined
        ? RETENTION_MS_DEFAULT
        : parseDuration(options.retention, "retention");
    const gcSchedule = options.gcSchedule === undefined ? GC_SCHEDULE_DEFAULT : options.gcSchedule;
    if (options.worker !== false) {
      const gc = gcWorkflow(
        this.store,
        this.retentionMs,
        gcSchedule,
        memoryRetentionOf(options.memoryRetention),
      );
      this.workflows.set(GC_WORKFLOW, gc);
      this.registry.versions.set(GC_WORKFLOW, new Map([[gc.options.version ?? null, gc]]));
    }
    const settings = workerSettingsOf(options.worker, options.waitTimeout);
    this.telemetry = createTelemetry(this.log, settings?.workerId ?? null, options.telemetry);
    const workerLog = settings === null ? this.log : this.log.child({ worker: settings.workerId });
    this.worker =
      settings === null
        ? null
        : new Worker(this.store, this.registry, this.clock, this.limits, settings, {
            exited: (runId, exit) => this.notifyExit(runId, exit),
            warn: (m) => workerLog.warn({}, m),
            observer: this.telemetry.observer,
            streamed: (runId) => this.streamWaiters.notify(runId),
          });
    this.committer =
      this.worker?.committer ??
      new Committer(this.store, this.clock, {
        fenced: () => {},
        failed: () => {},
        poisoned: () => {},
      });
    this.messageParts = {
      store: this.store,
      clock: this.clock,
      limits: this.limits,
      woke: (refs) => this.worker?.woke(refs),
      triggered: (name) => this.worker?.eventStored(name),
    };
    this.parts = {
      store: this.store,
      clock: this.clock,
      limits: this.limits,
      committer: this.committer,
      worker: this.worker,
      workflows: this.workflows,
      registry: this.registry,
    };
  }

  /** Opens the store and starts the worker. Called by {@link createEngine}. */
  async open(): Promise<void> {
    await this.store.open();
    await this.worker?.start();
    this.untrack = trackOpenEngine({
      description: this.store.description,
      warn: (m) => this.log.warn(m),
    });
  }

  /** This engine's worker id, or null for a client engine. */
  get workerId(): string | null {
    return this.worker?.settings.workerId ?? null;
  }

  /**
   * Starts a run of `workflow` (a definition or a registered name) with `input`. Idempotent on
   * `options.id`: starting an existing id with the same input returns that run (`created:
   * false`); with a different input it throws `RunIdConflictError`, unless
   * `onConflict: "return"` asks for the existing run.
   *
   * @example
   * ```ts
   * const run = await engine.start(research, { query: "vector databases" }, { id: "lead-42" });
   * const again = await engine.start(research, { query: "other" }, { id: "lead-42", onConflict: "return" });
   * ```
   */
  async start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions = {},
  ): Promise<RunHandle<O>> {
    this.checkOpen();
    const wf = resolveWorkflow(this.registry, workflow, this.worker !== null);
    const { id, created } = await startRun(this.parts, wf, input, options);
    if (created) this.telemetry.runCreated(wf.name);
    return this.handleOf<O>(id, created);
  }

  /** The workflows registered on this engine (the version new runs take), endure's own left out. */
  workflowDefinitions(): AnyWorkflow[] {
    return [...this.workflows.values()].filter((w) => w.name !== GC_WORKFLOW);
  }

  /** A handle on an existing run, by id. */
  handle<O = unknown>(runId: string): RunHandle<O> {
    return this.handleOf<O>(runId, false);
  }

  /** The run as stored, or null when no run has this id. */
  async getRun<O = unknown>(runId: string): Promise<RunInfo<O> | null> {
    checkRunId(runId);
    const run = await this.store.getRun(runId);
    return run === null ? null : toRunInfo<O>(run);
  }

  /**
   * Runs, newest first, optionally of one workflow or status, created in a time range, or
   * whose id contains a text; page with `cursor`.
   *
   * @example
   * ```ts
   * const { runs, next } = await engine.listRuns({ status: "failed", createdAfter: yesterday });
   * ```
   */
  async listRuns(options: ListRunsOptions = {}): Promise<{ runs: RunInfo[]; next: string | null }> {
    return listRuns(this.store, options);
  }

  /** The run's journal: every fact it recorded, in order, with decoded details. */
  async journal(runId: string): Promise<JournalRecord[]> {
    return readJournal(this.store, runId);
  }

  /**
   * A page of the run's journal: up to `limit` entries (default 500) from seq `from`
   * (default 1), and the `from` of the next page (null at the end).
   *
   * @example
   * ```ts
   * let page = await engine.journalPage(runId);
   * while (page.next !== null) page = await engine.journalPage(runId, { from: page.next });
   * ```
   */
  async journalPage(
    runId: string,
    options: { from?: number; limit?: number } = {},
  ): Promise<JournalPage> {
    return readJournalPage(this.store, runId, options);
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
    return readStreamPage(this.store, runId, options);
  }

  /**
   * Cancels a run that has not ended. A run that already ended is returned unchanged. `by`
   * (who asks) is journaled with the request for the audit trail.
   */
  async cancel(
    runId: string,
    reason = "cancelled by request",
    options: { by?: string } = {},
  ): Promise<RunInfo> {
    this.checkOpen();
    return cancelRun(
      this.parts,
      runId,
      reason,
      (id, exit) => this.notifyExit(id, exit),
      options.by,
    );
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
    return listApprovals(this.store, options);
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
   * Checks the run's journal against its hash chain (see `hashChain`): reports every entry
   * that was edited, removed or moved since it was written, and a journal cut short. Needs no
   * key: hashes cover payloads as stored, sealed or not.
   *
   * @example
   * ```ts
   * const report = await engine.verify("lead-42");
   * if (!report.ok) for (const p of report.problems) console.error(`entry ${p.seq} ${p.problem}`);
   * ```
   */
  async verify(runId: string): Promise<VerifyReport> {
    return this.chain.verify(runId);
  }

  /**
   * Erases an ended run's payloads: deletes the data key they are sealed under (with
   * `aesGcmCodec({ runKeys: true })`), so that its input, step results, errors, output,
   * signals, wait values, approval comments and stream parts can no longer be read, by this
   * engine or anyone holding the key ring. What is left is the structure of its journal (who
   * did what when, its hashes: `verify` still passes); its payloads read as
   * `{ $endure: "shredded" }` (see `isShredded`), and its result throws `run_shredded`.
   * A run still going is refused: cancel it first.
   *
   * @example
   * ```ts
   * await engine.shred("lead-42"); // { runId: "lead-42", shreddedAt, already: false }
   * ```
   */
  async shred(runId: string): Promise<ShredReport> {
    this.checkOpen();
    checkRunId(runId);
    return shredRun(this.store, runId, this.clock.now());
  }

  /**
   * `value` with the fields of the engine's `redact` option masked, as the HTTP API shows it:
   * a copy, the value itself unchanged (the value itself when nothing is masked).
   *
   * @example
   * ```ts
   * // createEngine({ ..., redact: { fields: ["ssn"] } })
   * engine.redact({ name: "Ada", ssn: "078-05-1120" }); // { name: "Ada", ssn: "[redacted]" }
   * ```
   */
  redact<T>(value: T): T {
    return this.redaction(value);
  }

  /**
   * Rotates the key ring under runs' data keys (with `aesGcmCodec({ runKeys: true })`): every
   * run's data key is wrapped again under the ring's `current` key, while workers go on. Once
   * it has run, older ring keys seal no run key, and can be dropped from the ring when no
   * payload sealed directly under them (events, memory, runs started before `runKeys`) is kept.
   * Safe to run again and to stop part way; nothing is re-encrypted but the keys, so the hash
   * chain stays whole.
   *
   * @example
   * ```ts
   * // aesGcmCodec({ keys: { old, new }, current: "new", runKeys: true })
   * const { rewrapped } = await engine.rotateKeys(); // run keys now under "new"
   * ```
   */
  async rotateKeys(): Promise<RotationReport> {
    this.checkOpen();
    return rotateKeys(this.store, this.codec);
  }

  /**
   * Where the run is and why: a structured state and one plain sentence, such as
   * "waiting for approval 'publish' since 2h 3m; times out in 6d 21h".
   */
  async explain(runId: string): Promise<Explanation> {
    return explainRun(this.store, this.clock, runId);
  }

  /**
   * Deletes finished runs and spent events older than the retention period (default 30 days),
   * as a run of the built-in `endure.gc` workflow, whose journal records what it deleted. The
   * engine also runs it daily. Only an engine with a worker can run it: on one created with
   * `worker: false` it throws at once (an `invalid_argument` error) instead of waiting.
   */
  async gc(): Promise<GcResult> {
    this.checkOpen();
    const wf = this.workflows.get(GC_WORKFLOW);
    if (this.worker === null || wf === undefined) {
      throw new InvalidArgumentError(
        "engine.gc() needs an engine with a worker to run the retention workflow, and this one " +
          "was created with worker: false; call gc() on a worker engine (or run `endure gc --store <url>`)",
      );
    }
    const run = await this.start(wf as Workflow<unknown, GcResult>, undefined, {
      id: `${GC_WORKFLOW}@manual:${new Date(this.clock.now()).toISOString()}`,
    });
    return run.result();
  }

  /**
   * Durable memory from outside a run: with a key, a handle to read and write it (writes are
   * serialized with every run's, so nothing is lost); without, a handle on the namespace to
   * list its keys by prefix. See docs/memory.md.
   *
   * @example
   * ```ts
   * await engine.memory("customer", "42").set({ tier: "gold" }, { by: "maria@acme.io" });
   * const { keys } = await engine.memory("customer").list({ prefix: "4" });
   * const changes = await engine.memory("customer", "42").history();
   * ```
   */
  memory<T = unknown>(namespace: string, key: string): MemoryKeyHandle<T>;
  memory(namespace: string): MemoryNamespaceHandle;
  memory<T = unknown>(namespace: string, key?: string): MemoryKeyHandle<T> | MemoryNamespaceHandle {
    this.checkOpen();
    return key === undefined
      ? memoryNamespace(this.store, this.clock, namespace)
      : memoryKey<T>(this.store, this.clock, namespace, key);
  }

  /**
   * Asks run `runId` the query `name` (a handler it registered with `ctx.onQuery`) with
   * `args`, and returns the handler's answer (a copy). A run this engine holds in memory
   * answers at once; any other (evicted, on another worker, ended) answers from a replay of
   * its journal that executes and writes nothing, which needs its workflow registered here.
   *
   * @example
   * ```ts
   * const { found } = await engine.query<{ found: number }>("lead-42", "progress");
   * ```
   */
  async query<R = unknown>(runId: string, name: string, args?: unknown): Promise<R> {
    this.checkOpen();
    return (await queryRun(
      {
        store: this.store,
        workflowOf: (run) =>
          this.registry.versions.get(run.workflow)?.get(run.version) as
            Workflow<unknown, unknown> | undefined,
        worker: this.worker,
      },
      runId,
      name,
      args,
    )) as R;
  }

  /**
   * Sends run `runId` the update `name` (a handler it registered with `ctx.onUpdate`) with
   * `args`, and returns the handler's result, or throws its error. The handler's validator
   * runs first, against the run's state: a refusal (`update_rejected`) journals nothing.
   * Delivered exactly once per `options.id`: a caller that retries with the same id gets the
   * first outcome, and the handler runs once, also across crashes of the run's worker.
   *
   * @example
   * ```ts
   * await engine.update("order-7", "address", "ana@example.com", { id: "fix-address-1" });
   * ```
   */
  async update<R = unknown>(
    runId: string,
    name: string,
    args?: unknown,
    options: UpdateSendOptions = {},
  ): Promise<R> {
    this.checkOpen();
    return (await updateRun(
      {
        store: this.store,
        workflowOf: (run) =>
          this.registry.versions.get(run.workflow)?.get(run.version) as
            Workflow<unknown, unknown> | undefined,
        worker: this.worker,
        messages: this.messageParts,
      },
      runId,
      name,
      args,
      options,
    )) as R;
  }

  /** Memory namespaces that hold keys, with how many and when one was last written. */
  async memoryNamespaces(): Promise<MemoryNamespaceInfo[]> {
    this.checkOpen();
    return memoryNamespaces(this.store);
  }

  /**
   * Makes a paused run (non-determinism, crash loop, missing version) runnable again. With
   * `version`, the run moves to that version of its workflow: it replays its journal on that
   * code (a divergence pauses it again, nothing is lost) and stays on it.
   *
   * @example
   * ```ts
   * // Version 1 is retired; its paused runs go on with version 2.
   * await engine.resume("lead-42", { version: "2" });
   * ```
   */
  async resume(runId: string, options: { version?: string | null } = {}): Promise<RunInfo> {
    this.checkOpen();
    return resumeRun(this.parts, runId, options);
  }

  /**
   * Runs a failed run again from the step that failed: its finished steps are answered from
   * the journal (not repeated), the failed step gets fresh attempts. `by` is recorded in the
   * journal's `run_retried` entry. Throws `RunFinishedError` when the run has not failed.
   *
   * @example
   * ```ts
   * await engine.retry("lead-42", { by: "maria@acme.io" });
   * console.log(await engine.handle("lead-42").result());
   * ```
   */
  async retry(runId: string, options: { by?: string } = {}): Promise<RunInfo> {
    this.checkOpen();
    return retryRun(this.parts, runId, options.by ?? "request");
  }

  /**
   * Re-opens a run that ended (completed, failed, cancelled or timed out) from step `toStep`,
   * after a bug fix: the steps before it are answered from the journal (their bodies are not
   * run again), it and everything after it run again on the code registered now. The journal
   * keeps what happened; its `run_rewound` entry (with `by`) marks what it supersedes, and
   * `engine.journal` flags those entries `superseded`. A run that has not ended is refused
   * with `RunActiveError`: cancel it first. A step the journal does not hold is a
   * `PositionNotFoundError`.
   *
   * @example
   * ```ts
   * // The summary step had a bug; it is fixed and deployed. Run the run again from it.
   * await engine.rewind("lead-42", { toStep: "summarize", by: "maria@acme.io" });
   * console.log(await engine.handle("lead-42").result());
   * ```
   */
  async rewind(runId: string, options: RewindOptions): Promise<RunInfo> {
    this.checkOpen();
    return rewindRun(this.parts, runId, options);
  }

  /**
   * Starts a new run of the same workflow, version and input that shares the run's journal
   * up to step `atStep` (included): those steps are answered from the journal, everything
   * after runs in the fork. With `output`, the step's result in the fork is that value ("what
   * if the model had answered X"). The parent is not changed; the fork's `run_forked` entry
   * names it and `by`. A step the journal does not hold is a `PositionNotFoundError`.
   *
   * @example
   * ```ts
   * const fork = await engine.fork("lead-42", { atStep: "classify", output: { ...reply, text: "positive" } });
   * console.log(await engine.handle(fork.id).result());
   * ```
   */
  async fork(runId: string, options: ForkOptions): Promise<RunInfo> {
    this.checkOpen();
    return forkRun(this.parts, runId, options);
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
    return checkHealth(this.store, this.worker, () => this.closed);
  }

  /**
   * Stops the worker gracefully (running steps finish, runs are handed back) and closes the
   * store. Call it when done: a worker engine keeps the process alive until it is closed, and
   * a process about to exit with an engine still open gets a warning naming its store.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    await this.worker?.close();
    await this.committer.flushAll();
    this.exits.leaveAll();
    await this.store.close();
  }

  // ---- internals ------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed)
      throw new EngineClosedError("this engine is closed; create a new one with createEngine");
  }

  private handleOf<O>(id: string, created: boolean): RunHandle<O> {
    return {
      id,
      created,
      result: (options) =>
        waitForResult<O>(this.parts, this.exits, () => this.closed, id, options?.signal),
      info: async () => {
        const info = await this.getRun<O>(id);
        if (info === null) throw new RunNotFoundError(`no run has the id '${id}'`);
        return info;
      },
      cancel: (reason?: string) => this.cancel(id, reason) as Promise<RunInfo<O>>,
      signal: (name: string, data?: unknown) => this.signal(id, name, data),
      stream: (options?: StreamOptions) =>
        followRunStream(this.store, this.streamWaiters, () => this.closed, id, options),
    };
  }

  private notifyExit(runId: string, exit: RunExit): void {
    this.streamWaiters.notify(runId);
    this.exits.notify(runId, exit);
  }
}
