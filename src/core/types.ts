// Deterministic: the types users write workflows against.
import type { Duration } from "./duration.js";
import type { MemoryHandle } from "./memory.js";
import type { PayloadShape } from "./shapes.js";
import type { RateLimitOptions } from "./flow-control.js";
import type { StreamPart } from "./stream.js";
import type { Usage } from "./usage.js";

/**
 * A handle on the engine's own database, given to a transactional step. Its writes commit
 * in the same transaction as the step's journal entry, so the effect happens exactly once.
 * SQL uses the store's dialect: `?` placeholders on SQLite, `$1` on PostgreSQL.
 */
export interface SqlTransaction {
  /** Which SQL the store speaks. */
  readonly dialect: "sqlite" | "postgres";
  /** Runs a statement that returns rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
}

/** What a step body receives. Unlike the workflow context, a step body may do I/O. */
export interface StepContext {
  /** Stable across retries and recoveries: pass it to external systems to deduplicate. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** Aborted when the attempt times out, the run is cancelled or the worker loses the run. */
  readonly signal: AbortSignal;
  /** The run this step belongs to. */
  readonly runId: string;
  /** The step's name with its occurrence, such as `enrich#3`. */
  readonly stepKey: string;
  /**
   * Appends a part to the run's output stream at once, for people watching (token deltas,
   * progress). Unlike `ctx.emit`, a part emitted by a body is written again if the body runs
   * again (a retry, a recovery after a crash).
   *
   * @example
   * ```ts
   * await ctx.step("crawl", async ({ emit }) => {
   *   for (const url of urls) { emit({ type: "data-progress", data: { url } }); await crawl(url); }
   * });
   * ```
   */
  readonly emit: (part: StreamPart) => void;
}

/** What a transactional step body receives: a {@link StepContext} plus the transaction. */
export interface TransactionalStepContext extends StepContext {
  readonly tx: SqlTransaction;
}

/** Exponential backoff between attempts, with jitter: each delay is within 20% of the
 * backoff either way (its average is the backoff), and never longer than `max`. */
export interface BackoffOptions {
  /** Delay before the first retry. Default `"1s"`. */
  initial?: Duration;
  /** Longest delay. Default `"1m"`. */
  max?: Duration;
  /** Growth per attempt. Default 2. */
  factor?: number;
}

/** Options of `ctx.step`. */
export interface StepOptions<T> {
  /** Retries after a failed attempt (0 means one attempt only). Default 3. */
  retries?: number;
  /** Delay between attempts. */
  backoff?: BackoffOptions;
  /** Longest an attempt may take; its `signal` aborts and the attempt fails. */
  timeout?: Duration;
  /**
   * A deterministic check of the result, run after the body and before the commit. Return
   * `true` (or nothing) to accept; `false`, a reason string, or a throw to refuse: the
   * attempt counts as failed and the journal records why.
   */
  verify?: (result: T) => boolean | string | void | Promise<boolean | string | void>;
  /**
   * Record the attempt's start durably before the body runs; if a crash interrupts it, the
   * step fails with `StepInterruptedError` instead of running again.
   */
  atMostOnce?: boolean;
  /** Give the body a transaction on the engine's database (see {@link SqlTransaction}). */
  transactional?: boolean;
  /**
   * Wait for room in a rate limit shared by every worker before each attempt, such as a model
   * provider's requests or tokens per minute.
   *
   * @example
   * ```ts
   * await ctx.step("summarize", () => model.complete(prompt), {
   *   rateLimit: { key: "openai", limit: 90_000, period: "1m", units: estimateTokens(prompt) },
   * });
   * ```
   */
  rateLimit?: RateLimitOptions;
  /**
   * What a successful result used (tokens, cost), for metered steps such as model calls.
   * Recorded with the result and added to the run's totals (`engine.getRun(id).usage`) in
   * the same commit. Missing fields count as 0.
   */
  usage?: (result: T) => Partial<Usage> | undefined;
  /**
   * Undoes the step (a saga): if the run fails, or is cancelled, after this step succeeded,
   * `compensate` runs durably as a step of its own, `undo <name>` (journaled, with the default
   * retries), given the step's result. Undos run newest first; the run then ends with its
   * original error. An undo that still fails after its retries leaves the run failed with a
   * `CompensationFailedError` (the original error as its cause); the other undos still run.
   *
   * @example
   * ```ts
   * const charge = await ctx.step("charge", () => payments.charge(order), {
   *   compensate: (c, { idempotencyKey }) => payments.refund(c.id, idempotencyKey),
   * });
   * ```
   */
  compensate?: (result: T, step: StepContext) => unknown;
}

/**
 * The context a workflow function receives: the only door to time, randomness and side
 * effects. Everything it does is journaled and answered from the journal on replay.
 */
export interface WorkflowContext {
  /** The id of this run. */
  readonly runId: string;
  /** The workflow's name. */
  readonly workflowName: string;
  /**
   * Runs `fn` as a step: its result is journaled before the workflow goes on, and on replay
   * the journaled result is returned without running `fn` again.
   *
   * @example
   * ```ts
   * const page = await ctx.step("fetch", ({ signal }) => fetch(url, { signal }).then((r) => r.text()),
   *   { retries: 5, timeout: "30s" });
   * ```
   */
  step<T>(
    name: string,
    fn: (step: StepContext) => T | Promise<T>,
    options?: StepOptions<T> & { transactional?: false },
  ): Promise<T>;
  step<T>(
    name: string,
    fn: (step: TransactionalStepContext) => T | Promise<T>,
    options: StepOptions<T> & { transactional: true },
  ): Promise<T>;
  /** Pauses the run for `duration` ("10m", "7d"); long pauses evict it from memory. */
  sleep(name: string, duration: Duration): Promise<void>;
  /** Pauses the run until `until` (a Date or epoch milliseconds). */
  sleepUntil(name: string, until: Date | number): Promise<void>;
  /**
   * Whether this run takes the new branch of a code change: true for runs that reach this
   * point on code that has the patch (journaled), false for runs that passed this point on
   * the code before it. Lets one version of a workflow serve runs of both. `id` names the
   * change; use each id at one place only.
   *
   * @example
   * ```ts
   * if (ctx.patched("score-with-model")) await ctx.step("score", () => scoreWithModel(lead));
   * else await ctx.step("score-by-rules", () => scoreByRules(lead));
   * ```
   */
  patched(id: string): boolean;
  /**
   * Retires patch `id` once no run in flight passed it on the old code: the code keeps only
   * the new branch. A run that still needs the old branch pauses with a clear divergence
   * (deprecated too early). Remove the call itself once no run that took the patch is in flight.
   */
  deprecatePatch(id: string): void;
  /** The time, in epoch milliseconds, recorded on first execution and replayed after. */
  now(): number;
  /** A random number in [0, 1), recorded on first execution and replayed after. */
  random(): number;
  /** A random UUID (v4), recorded on first execution and replayed after. */
  uuid(): string;
  /**
   * Appends a part to the run's output stream, which clients read from any offset and
   * re-attach to after a disconnect or a crash (`handle.stream()`). Each part emitted by
   * workflow code is written once, also when a replay passes this call again.
   *
   * @example
   * ```ts
   * ctx.emit({ type: "data-status", data: { phase: "researching" } });
   * ```
   */
  emit(part: StreamPart): void;
  /**
   * Waits for the first event named `options.event` whose fields match `options.match`, sent
   * after this run started (also before this call: no lost wake-up). Resolves with the event,
   * or null when `timeout` passes first. One wait consumes one event.
   *
   * @example
   * ```ts
   * const reply = await ctx.waitForEvent("reply", {
   *   event: "email.replied", match: { "data.threadId": thread.id }, timeout: "7d" });
   * ```
   */
  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions<T>,
  ): Promise<ReceivedEvent<T> | null>;
  /**
   * Waits for the next signal named `name` sent to this run (signals are buffered in order
   * until read). Resolves with it, or null when `timeout` passes first.
   */
  waitForSignal<T = unknown>(
    name: string,
    options?: WaitOptions,
  ): Promise<ReceivedSignal<T> | null>;
  /**
   * Pauses the run until people decide: who may decide, how many must agree, and what happens
   * as the request ages. The decision is journaled (who, when, comment).
   *
   * @example
   * ```ts
   * const ok = await ctx.approval("publish", { title: "Publish the summary?", approvers: ["ana", "bo", "cy"],
   *   quorum: 2, timeout: "7d", policy: [{ after: "1d", action: "remind" }] });
   * if (ok.approved) await ctx.step("publish", () => cms.publish(draft));
   * ```
   */
  approval(name: string, options: ApprovalOptions): Promise<ApprovalResult>;
  /**
   * Sends an event from the workflow, exactly once (its id derives from the run and this
   * call). Other runs waiting for it, and workflows triggered by it, wake up.
   */
  sendEvent(name: string, event: { name: string; data?: unknown }): Promise<{ id: string }>;
  /**
   * Registers cleanup that runs, durably, if the run is cancelled or outlives its `ttl`: it is
   * workflow code (it may call `ctx.step`) and runs in reverse order of registration.
   */
  onCancel(cleanup: (cancellation: Cancellation) => Promise<void> | void): void;
  /**
   * A handle on a durable memory key: a value that lives in the store beside the journal and
   * outlives the run (a customer's profile, an agent's notes). Reads and writes are journaled
   * (a replay sees what the first execution saw); a write commits in one transaction with
   * its journal entry; writes to one key are serialized across runs and workers, so an
   * `update` never loses another's. See docs/memory.md.
   *
   * @example
   * ```ts
   * const notes = ctx.memory<string[]>("customer", input.customerId);
   * await notes.update((all) => [...(all ?? []), "prefers e-mail"]);
   * ```
   */
  memory<T = unknown>(namespace: string, key: string): MemoryHandle<T>;
  /**
   * Waits for every operation (steps, sleeps, waits, combinators, or any promise); resolves
   * with their values in input order, or rejects with the first failure, withdrawing the
   * waits and sleeps still pending. The outcome is journaled: a replay takes the same branch.
   *
   * @example
   * ```ts
   * const [quote, stock] = await ctx.all([ctx.step("quote", getQuote), ctx.step("stock", getStock)]);
   * ```
   */
  all<const T extends readonly unknown[]>(
    operations: T,
  ): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }>;
  /**
   * The first operation to succeed; rejects with `CombinatorFailedError` when all fail. The
   * winner is journaled; waits and sleeps still pending are withdrawn.
   */
  any<const T extends readonly unknown[]>(operations: T): Promise<Awaited<T[number]>>;
  /**
   * The first operation to end, succeeded or failed. The winner is journaled, so a replay
   * takes the same branch whatever order results arrive in; the waits and sleeps that lose
   * are withdrawn (journaled as cancelled, no later event reaches them, an event that raced
   * the withdrawal goes to the run's next matching wait). Use it instead of `Promise.race`.
   *
   * @example
   * ```ts
   * const reply = await ctx.race([
   *   ctx.waitForEvent("reply", { event: "email.replied", timeout: "3d" }),
   *   ctx.sleep("deadline", "1d"),
   * ]);
   * if (reply === undefined) await ctx.step("nudge", sendReminder);
   * ```
   */
  race<const T extends readonly unknown[]>(operations: T): Promise<Awaited<T[number]>>;
  /**
   * The first `k` of the operations to succeed, as `{ index, value }` in the order they did;
   * the rest are withdrawn. Rejects with `CombinatorFailedError` once `k` can no longer be
   * reached. `k` must be from 1 to the number of operations.
   *
   * @example
   * ```ts
   * const two = await ctx.some(2, [vendor, carrier, warehouse]);
   * ```
   */
  some<T>(k: number, operations: readonly T[]): Promise<SomeResult<Awaited<T>>[]>;
  /**
   * Runs `fn` over `items`, each item a step named `name` (`name#1`, `name#2`, ... in input
   * order), at most `concurrency` at once (default `limits.MAP_CONCURRENCY_DEFAULT`). Resolves
   * with the results in input order. By default the first failure rejects (no new item
   * starts); with `failures: "collect"` every item runs and each result says how it ended.
   *
   * @example
   * ```ts
   * const pages = await ctx.map("fetch", urls, (url, { signal }) => fetchPage(url, signal),
   *   { concurrency: 3, retries: 3 });
   * ```
   */
  map<I, O>(
    name: string,
    items: readonly I[],
    fn: (item: I, step: StepContext, index: number) => O | Promise<O>,
    options?: MapOptions<O> & { failures?: "throw" },
  ): Promise<Awaited<O>[]>;
  map<I, O>(
    name: string,
    items: readonly I[],
    fn: (item: I, step: StepContext, index: number) => O | Promise<O>,
    options: MapOptions<O> & { failures: "collect" },
  ): Promise<MapOutcome<Awaited<O>>[]>;
  /**
   * Runs each of `items` as the input of a child run of `workflow` (as `ctx.invoke` would,
   * child ids `<run id>/<name>#1`, `#2`, ... in input order), at most `concurrency` children
   * at once: a fan-out to sub-agents that lives in the store, not in memory, and whose children
   * may run on other workers. Resolves with the children's outputs in input order. By default
   * the first failed child rejects with its `ChildRunFailedError` and no new child starts (those
   * already started run on, and are cancelled when this run ends, unless `detached`); with
   * `failures: "collect"` every child runs and each result says how it ended.
   *
   * @example
   * ```ts
   * const findings = await ctx.map("research", topics, research, { child: true, concurrency: 5 });
   * ```
   */
  map<I, O>(
    name: string,
    items: readonly I[],
    workflow: ChildWorkflowDefinition<I, O>,
    options: MapChildOptions & { failures?: "throw" },
  ): Promise<O[]>;
  map<I, O>(
    name: string,
    items: readonly I[],
    workflow: ChildWorkflowDefinition<I, O>,
    options: MapChildOptions & { failures: "collect" },
  ): Promise<MapOutcome<O>[]>;
  /**
   * Starts a child run of `workflow` and waits for its result, durably: the child has its own
   * journal, retries and id (derived from this run's, so that a replay finds the same child),
   * and may run on another worker; this run is evicted from memory while it waits, and woken
   * when the child ends. A child that fails, is cancelled or times out rejects with
   * `ChildRunFailedError` (its `cause` is the child's error). Cancelling this run cancels the
   * child, unless `detached`. The workflow must be registered on this engine.
   *
   * @example
   * ```ts
   * const findings = await ctx.invoke("research", research, { query: "vector databases" });
   * ```
   */
  invoke<I, O>(
    name: string,
    workflow: ChildWorkflowDefinition<I, O>,
    input: I,
    options?: InvokeOptions,
  ): Promise<O>;
  invoke<O = unknown>(
    name: string,
    workflow: string,
    input: unknown,
    options?: InvokeOptions,
  ): Promise<O>;
  /**
   * Starts a child run of `workflow` without waiting for it (fire and forget): resolves, once
   * the child is committed, with its id. The child outlives this run's end, but is cancelled
   * when this run is cancelled, unless `detached`.
   *
   * @example
   * ```ts
   * const { runId } = await ctx.startChild("notify", notifyTeam, { lead: input.lead });
   * ```
   */
  startChild<I>(
    name: string,
    workflow: ChildWorkflowDefinition<I, unknown> | string,
    input: I,
    options?: ChildOptions,
  ): Promise<ChildHandle>;
  /**
   * Registers a read-only handler that `engine.query(runId, name, args)` calls to ask the run
   * about its state: on the live run when it is in memory, else on a replay of its journal that
   * changes nothing. A handler is synchronous and only reads: starting a step or a wait,
   * recording a value or emitting is refused with `query_refused`. A second registration of
   * a name replaces the first.
   *
   * @example
   * ```ts
   * const found: string[] = [];
   * ctx.onQuery("progress", () => ({ found: found.length }));
   * ```
   */
  onQuery<A = unknown, R = unknown>(name: string, handler: (args: A) => R): void;
  /**
   * Registers a handler that `engine.update(runId, name, args)` delivers to, exactly once per
   * update id: workflow code that may change the run's state and do durable work (steps,
   * waits). Its result (or error) is journaled and returned to the caller. `validate` checks
   * the arguments first, on the caller's side: a refusal reaches the caller as
   * `update_rejected` and nothing is journaled.
   *
   * @example
   * ```ts
   * let address = input.address;
   * ctx.onUpdate("address", (next: string) => (address = next), {
   *   validate: (next) => next.includes("@") || "not an e-mail address",
   * });
   * ```
   */
  onUpdate<A = unknown, R = unknown>(
    name: string,
    handler: (args: A) => R | Promise<R>,
    options?: UpdateOptions<A>,
  ): void;
  /**
   * Ends this run's journal segment and carries on in a fresh one under the same run id: the
   * workflow function starts again from the top with `input` (checked against the workflow's
   * input schema), and a replay reads only the newest segment, so a loop that runs for months
   * keeps a bounded journal to replay. Earlier segments stay in the journal as history
   * (`engine.journal` numbers each entry's `segment`). The promise never resolves: write
   * `return ctx.continueAsNew(next)`. Waits still open are withdrawn, and the journal-length
   * limit counts the entries of each segment.
   *
   * Refused with `continue_refused` (nothing journaled) inside a step body or while one runs,
   * while steps with `compensate` have undos registered, during a cancellation's cleanup or a
   * failure's undos, and in a query handler.
   *
   * @example
   * ```ts
   * const loop = workflow("agent-loop", async (ctx, input: { turn: number }) => {
   *   for (let turn = input.turn; turn < input.turn + 100; turn++) {
   *     await ctx.step("turn", () => agentTurn(turn));
   *   }
   *   return ctx.continueAsNew({ turn: input.turn + 100 });
   * });
   * ```
   */
  continueAsNew(input: unknown): Promise<never>;
}

/** A workflow as `ctx.invoke` and `ctx.startChild` take it: a definition made with
 * `workflow()`, whose input and output types they carry. */
export interface ChildWorkflowDefinition<I, O> {
  readonly name: string;
  readonly fn: (ctx: WorkflowContext, input: I) => Promise<O>;
}

/** Options of `ctx.invoke` and `ctx.startChild`. */
export interface ChildOptions {
  /**
   * The child run's id. Default: derived from the parent's id and this call
   * (`<parent id>/<name>#<n>`), so that a replay finds the same child.
   */
  id?: string;
  /**
   * Leave the child running when the parent is cancelled, or (`ctx.invoke`) stops waiting for
   * it: it lost a combinator, or the invoke's `timeout` passed. Default false: such a child is
   * cancelled with its parent.
   */
  detached?: boolean;
}

/** Options of `ctx.invoke`. */
export interface InvokeOptions extends ChildOptions {
  /**
   * Longest the parent waits for the child; then the invoke rejects with
   * `ChildRunFailedError` (status `timed_out`) and the child is cancelled unless detached.
   * Default: no limit (the child's own `ttl` bounds it).
   */
  timeout?: Duration;
}

/** A child run started with `ctx.startChild`. */
export interface ChildHandle {
  readonly runId: string;
  readonly workflow: string;
}

/** Options of `ctx.onUpdate`. */
export interface UpdateOptions<A> {
  /**
   * Checks the arguments before anything is journaled: return `true` (or nothing) to accept,
   * `false` or a reason to refuse (the caller gets `update_rejected`), or throw. It runs on
   * the caller's engine against the run's state, and must only read.
   */
  validate?: (args: A) => boolean | string | void;
}

/** One of `ctx.some`'s results: the operation's index in the input and its value. */
export interface SomeResult<T> {
  readonly index: number;
  readonly value: T;
}

/** Options of `ctx.map`: the step options every item gets, and how many run at once. */
export interface MapOptions<T> extends Omit<StepOptions<T>, "transactional"> {
  /** Items running at once, a whole number from 1; default `limits.MAP_CONCURRENCY_DEFAULT`. */
  concurrency?: number;
  /** `"throw"` (default): the first failure rejects and no new item starts. `"collect"`:
   * every item runs, and each result says whether it succeeded. */
  failures?: "throw" | "collect";
}

/** Options of `ctx.map` with `child: true`: each item is the input of a child run. */
export interface MapChildOptions extends Omit<InvokeOptions, "id"> {
  /** Runs each item as a child run of the workflow passed in place of a function. */
  child: true;
  /** Children running at once, a whole number from 1; default `limits.MAP_CONCURRENCY_DEFAULT`. */
  concurrency?: number;
  /** `"throw"` (default): the first failed child rejects and no new child starts. `"collect"`:
   * every child runs, and each result says whether it succeeded. */
  failures?: "throw" | "collect";
}

/** How one item of `ctx.map` with `failures: "collect"` ended. */
export type MapOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Why cleanup runs. */
export interface Cancellation {
  readonly reason: string;
  /** `cancelled` by a request, or `timed_out` when the run outlived its workflow's `ttl`. */
  readonly kind: "cancelled" | "timed_out";
  /** Who asked for the cancellation, when the request said (`engine.cancel(id, reason, { by })`). */
  readonly by?: string;
}

/** One rung of a wait's ladder, counted from the moment the wait began. */
export type WaitPolicyRung =
  /** Sends an `endure.wait.reminder` event that other workflows (a notifier) can react to. */
  | { readonly after: Duration; readonly action: "remind" }
  /** Adds approvers to an approval (and sends an `endure.wait.escalated` event). */
  | { readonly after: Duration; readonly action: "escalate"; readonly to: readonly string[] }
  /** Ends the wait with a default: an approval's decision, or an event/signal's data. */
  | {
      readonly after: Duration;
      readonly action: "resolve";
      readonly decision?: "approved" | "rejected";
      readonly value?: unknown;
    }
  /** Ends the wait as timed out. */
  | { readonly after: Duration; readonly action: "expire" };

/** A wait's ladder: remind, escalate, resolve with a default, expire. */
export type WaitPolicy = readonly WaitPolicyRung[];

/** Options shared by every wait. */
export interface WaitOptions {
  /** Longest wait; the engine's default (30 days) when not given. */
  timeout?: Duration;
  /** What happens as the wait ages. */
  policy?: WaitPolicy;
}

/** Options of `ctx.waitForEvent`. */
export interface WaitForEventOptions<T = unknown> extends WaitOptions {
  /** The event's name, or a definition made with `defineEvent` (checks `match` paths). */
  event: string | EventDefinition<T>;
  /** Fields that must be equal, by path: `{ "data.orderId": 42 }`. Values are JSON primitives. */
  match?: Readonly<Record<string, string | number | boolean | null>>;
}

/** A named event whose data has a known shape. */
export interface EventDefinition<T = unknown> {
  readonly name: string;
  /** Top-level fields of the data, when known: `match` paths must use them. */
  readonly fields: readonly string[] | null;
  /** The version of the data's shape and its upcasters, when declared: a wait journals the
   * data it receives with this version, and a replay brings older data up to it. */
  readonly shape?: PayloadShape | null;
  /** Marks the data type for inference. */
  readonly __data?: T;
}

/** An event as a wait receives it. */
export interface ReceivedEvent<T = unknown> {
  readonly id: string;
  readonly name: string;
  readonly data: T;
  readonly receivedAt: Date;
}

/** A signal as a wait receives it. */
export interface ReceivedSignal<T = unknown> {
  readonly name: string;
  readonly data: T;
  readonly sentAt: Date;
}

/** Options of `ctx.approval`. */
export interface ApprovalOptions extends WaitOptions {
  /** What people are asked, shown in the API, CLI and dashboard. */
  title: string;
  /** What is being approved (a draft, a proposed tool call): any journaled value. */
  details?: unknown;
  /** Who may decide. Anyone, when neither `approvers` nor `role` is given. */
  approvers?: readonly string[];
  /** A role the deciding caller must assert. */
  role?: string;
  /** Approvals needed (k of n). Default 1. A single rejection rejects. */
  quorum?: number;
}

/** One person's decision on an approval. */
export interface ApprovalDecision {
  readonly by: string;
  readonly approved: boolean;
  readonly comment: string | null;
  readonly role: string | null;
  readonly at: Date;
}

/** How an approval ended. */
export interface ApprovalResult {
  readonly approved: boolean;
  /** `approved`/`rejected` by people, `timed_out`, or `resolved` by the wait's policy. */
  readonly outcome: "approved" | "rejected" | "timed_out" | "resolved";
  /** Who made the deciding call (null on a timeout or a policy's default). */
  readonly by: string | null;
  readonly comment: string | null;
  readonly at: Date;
  readonly decisions: readonly ApprovalDecision[];
}

/** Where a run is in its life. */
export type RunStatus =
  "pending" | "running" | "waiting" | "paused" | "completed" | "failed" | "cancelled" | "timed_out";

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "completed",
  "failed",
  "cancelled",
  "timed_out",
]);
