// Deterministic: when to retry a failed step attempt and how long to wait.
import { parseDuration } from "./duration.js";
import { InvalidArgumentError, isEndureError } from "./errors.js";
import {
  BACKOFF_FACTOR_DEFAULT,
  BACKOFF_INITIAL_MS_DEFAULT,
  BACKOFF_JITTER_RATIO,
  BACKOFF_MAX_MS_DEFAULT,
  STEP_RETRIES_DEFAULT,
  STEP_RETRIES_MAX,
  TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT,
  TRANSACTIONAL_STEP_TIMEOUT_MS_MAX,
} from "./limits.js";
import type { StepOptions } from "./types.js";

/** A step's retry settings in milliseconds, checked once when the step is called. */
export interface RetryPolicy {
  readonly retries: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly timeoutMs: number | null;
}

const DEFAULT_POLICY: RetryPolicy = Object.freeze({
  retries: STEP_RETRIES_DEFAULT,
  initialMs: BACKOFF_INITIAL_MS_DEFAULT,
  maxMs: BACKOFF_MAX_MS_DEFAULT,
  factor: BACKOFF_FACTOR_DEFAULT,
  timeoutMs: null,
});

/** Checks a step's options and turns them into a {@link RetryPolicy}. */
export function retryPolicyOf(options: StepOptions<unknown>, stepName: string): RetryPolicy {
  if (options.transactional === true) return transactionalPolicy(options, stepName);
  if (
    options.retries === undefined &&
    options.backoff === undefined &&
    options.timeout === undefined
  ) {
    return DEFAULT_POLICY;
  }
  const retries = options.retries ?? STEP_RETRIES_DEFAULT;
  if (!Number.isInteger(retries) || retries < 0 || retries > STEP_RETRIES_MAX) {
    throw new InvalidArgumentError(
      `step '${stepName}' retries must be a whole number from 0 to ${STEP_RETRIES_MAX}, got ${String(retries)}`,
    );
  }
  const b = options.backoff ?? {};
  const initialMs =
    b.initial === undefined
      ? BACKOFF_INITIAL_MS_DEFAULT
      : parseDuration(b.initial, `step '${stepName}' backoff.initial`);
  const maxMs =
    b.max === undefined
      ? Math.max(BACKOFF_MAX_MS_DEFAULT, initialMs)
      : parseDuration(b.max, `step '${stepName}' backoff.max`);
  const factor = b.factor ?? BACKOFF_FACTOR_DEFAULT;
  if (!(factor >= 1 && factor <= 100)) {
    throw new InvalidArgumentError(
      `step '${stepName}' backoff.factor must be from 1 to 100, got ${String(factor)}`,
    );
  }
  if (maxMs < initialMs) {
    throw new InvalidArgumentError(
      `step '${stepName}' backoff.max (${maxMs} ms) is shorter than backoff.initial (${initialMs} ms)`,
    );
  }
  const timeoutMs =
    options.timeout === undefined
      ? null
      : parseDuration(options.timeout, `step '${stepName}' timeout`);
  if (timeoutMs === 0)
    throw new InvalidArgumentError(`step '${stepName}' timeout must be longer than 0`);
  return { retries, initialMs, maxMs, factor, timeoutMs };
}

/** A transactional step's policy: its timeout defaults to, and is bounded by, the limits of a
 * lock held in the store (every write lock has a bound). */
function transactionalPolicy(options: StepOptions<unknown>, stepName: string): RetryPolicy {
  const policy = retryPolicyOf({ ...options, transactional: false }, stepName);
  const timeoutMs = policy.timeoutMs ?? TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT;
  if (timeoutMs > TRANSACTIONAL_STEP_TIMEOUT_MS_MAX) {
    throw new InvalidArgumentError(
      `step '${stepName}' is transactional, and its timeout (${timeoutMs} ms) is longer than the ` +
        `${TRANSACTIONAL_STEP_TIMEOUT_MS_MAX} ms its transaction may hold a lock; do the long work ` +
        "in a normal step and keep the transactional one to the writes",
    );
  }
  return { ...policy, timeoutMs };
}

/**
 * Delay before the attempt after `failedAttempt` (1-based): exponential growth capped at
 * `maxMs`, with jitter centred on it (from 1 - {@link BACKOFF_JITTER_RATIO} to 1 + that share,
 * the backoff on average) so that many runs failing together do not retry in lockstep. The cap
 * holds after the jitter. `unit` is a random number in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, unit: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failedAttempt - 1));
  const spread = BACKOFF_JITTER_RATIO * (2 * unit - 1);
  return Math.min(policy.maxMs, Math.round(base * (1 + spread)));
}

/** Errors that end a step at once, whatever retries remain. */
export function isTerminalStepError(error: unknown): boolean {
  return (
    isEndureError(error, "non_retriable") ||
    isEndureError(error, "value_not_serializable") ||
    isEndureError(error, "payload_too_large") ||
    isEndureError(error, "step_interrupted") ||
    isEndureError(error, "journal_too_long") ||
    isEndureError(error, "continue_refused") ||
    isEndureError(error, "a2a_request_refused") ||
    isEndureError(error, "a2a_task_not_found")
  );
}
