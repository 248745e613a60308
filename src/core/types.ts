// Deterministic: the types users write workflows against.
import type { Duration } from "./duration.js";
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

/** Exponential backoff between attempts, with jitter. */
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
   * What a successful result used (tokens, cost), for metered steps such as model calls.
   * Recorded with the result and added to the run's totals (`engine.getRun(id).usage`) in
   * the same commit. Missing fields count as 0.
   */
  usage?: (result: T) => Partial<Usage> | undefined;
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
}

/** Where a run is in its life. */
export type RunStatus =
  "pending" | "running" | "waiting" | "paused" | "completed" | "failed" | "cancelled";

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  "completed",
  "failed",
  "cancelled",
]);
