// Deterministic: checks the flow-control options (concurrency limits, priorities, rate
// limits) and computes what the store needs of them. No I/O.
import { parseDuration, type Duration } from "./duration.js";
import { InvalidArgumentError } from "./errors.js";
import {
  CONCURRENCY_KEY_LENGTH_MAX,
  CONCURRENCY_LIMIT_MAX,
  PRIORITY_MAX,
  PRIORITY_MIN,
  RATE_LIMIT_KEY_LENGTH_MAX,
  RATE_LIMIT_PERIOD_MS_MAX,
  RATE_LIMIT_PERIOD_MS_MIN,
  RATE_LIMIT_UNITS_MAX,
} from "./limits.js";
import { checkText } from "./text.js";

/**
 * A concurrency limit of a workflow: at most `limit` of its runs hold a lease at once, across
 * every worker; with `key`, at most `limit` per key (a tenant, a customer, a model account).
 * A run counts while a worker executes it; a run waiting (sleeping, evicted) does not.
 *
 * @example
 * ```ts
 * workflow("sync", syncTenant, { concurrency: { limit: 1, key: (input) => input.tenantId } });
 * ```
 */
export interface ConcurrencyOptions<I> {
  readonly limit: number;
  /** The key of a run, from its input. Runs with different keys do not limit each other. */
  readonly key?: (input: I) => string;
}

/**
 * A rate limit on a step, shared by every worker: a token bucket holding `limit` units that
 * refills continuously at `limit` per `period`. After an idle spell a full bucket lets
 * `limit` units go at once, and the refill adds more within the same period, so a window of
 * one period can see up to twice `limit`; in any window of length `w`, at most
 * `limit × (1 + w / period)` units start, and over a long stretch the rate is `limit` per
 * `period`. (To stay under an API that counts at most N per fixed window, give `limit: N / 2`.)
 * `units` is what this call costs: 1 for a call (the default), or an estimate of the tokens a
 * model call will use, to enforce tokens per minute.
 *
 * @example
 * ```ts
 * await ctx.step("ask", () => model.complete(prompt), {
 *   rateLimit: { key: "anthropic", limit: 40_000, period: "1m", units: prompt.length / 4 + 1_024 },
 * });
 * ```
 */
export interface RateLimitOptions {
  readonly key: string;
  readonly limit: number;
  readonly period: Duration;
  readonly units?: number;
}

/** A checked rate limit, in units and milliseconds. */
export interface RateLimit {
  readonly key: string;
  readonly units: number;
  readonly limit: number;
  readonly periodMs: number;
}

/** Checks a workflow's concurrency option. */
export function checkConcurrency(value: unknown, workflow: string): void {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null) {
    throw new InvalidArgumentError(`workflow '${workflow}' concurrency must be { limit, key? }`);
  }
  const c: { limit?: unknown; key?: unknown } = value;
  const limit = typeof c.limit === "number" ? c.limit : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > CONCURRENCY_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `workflow '${workflow}' concurrency.limit must be a whole number from 1 to ` +
        `${CONCURRENCY_LIMIT_MAX}, got ${JSON.stringify(c.limit)}`,
    );
  }
  if (c.key !== undefined && typeof c.key !== "function") {
    throw new InvalidArgumentError(
      `workflow '${workflow}' concurrency.key must be a function of the input returning a string`,
    );
  }
}

/** The concurrency key of a run of `workflow` with `input`: `""` without a key function. */
export function concurrencyKeyOf<I>(
  concurrency: ConcurrencyOptions<I> | undefined,
  input: I,
  workflow: string,
): string | null {
  if (concurrency === undefined) return null;
  if (concurrency.key === undefined) return "";
  const key: unknown = concurrency.key(input);
  checkText(key, `workflow '${workflow}' concurrency.key(input)`, CONCURRENCY_KEY_LENGTH_MAX, {
    emptyOk: true,
  });
  return key;
}

/** Checks a priority; `undefined` gives `fallback`. */
export function priorityOf(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (
    !Number.isInteger(value) ||
    (value as number) < PRIORITY_MIN ||
    (value as number) > PRIORITY_MAX
  ) {
    throw new InvalidArgumentError(
      `${what} must be a whole number from ${PRIORITY_MIN} to ${PRIORITY_MAX}, got ${JSON.stringify(value)}`,
    );
  }
  return value as number;
}

/** Checks a step's rate limit; null when it has none. */
export function rateLimitOf(value: RateLimitOptions | undefined, step: string): RateLimit | null {
  if (value === undefined) return null;
  const what = `step '${step}' rateLimit`;
  if (typeof value !== "object" || value === null) {
    throw new InvalidArgumentError(`${what} must be { key, limit, period, units? }`);
  }
  checkText(value.key, `${what}.key`, RATE_LIMIT_KEY_LENGTH_MAX);
  if (!(value.limit > 0 && value.limit <= RATE_LIMIT_UNITS_MAX)) {
    throw new InvalidArgumentError(
      `${what}.limit must be a number above 0 and at most ${RATE_LIMIT_UNITS_MAX}, got ${String(value.limit)}`,
    );
  }
  const periodMs = parseDuration(value.period, `${what}.period`);
  if (periodMs < RATE_LIMIT_PERIOD_MS_MIN || periodMs > RATE_LIMIT_PERIOD_MS_MAX) {
    throw new InvalidArgumentError(
      `${what}.period must be from ${RATE_LIMIT_PERIOD_MS_MIN} ms to ${RATE_LIMIT_PERIOD_MS_MAX} ms, got ${periodMs} ms`,
    );
  }
  const units = value.units ?? 1;
  if (!(units > 0 && units <= value.limit)) {
    throw new InvalidArgumentError(
      `${what}.units must be above 0 and at most its limit (${value.limit}), got ${String(units)}; ` +
        "a call that costs more than the whole bucket could never run",
    );
  }
  return { key: value.key, units, limit: value.limit, periodMs };
}
