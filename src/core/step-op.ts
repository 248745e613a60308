// Deterministic: executes one step: attempts, timeout, verification, retries with backoff.
// Step bodies do I/O; this file only calls them and journals what happened.
import { readDuration } from "./duration-text.js";
import { entryData, readEntryData } from "./entry-data.js";
import {
  ensureError,
  isEndureError,
  RetryAfterError,
  StepInterruptedError,
  StepTimeoutError,
  VerificationFailedError,
} from "./errors.js";
import type { JournalEntry, NewEntry } from "./journal.js";
import { rateLimitOf, type RateLimit } from "./flow-control.js";
import type { Op, OpScope } from "./op.js";
import { encodeError } from "./outcomes.js";
import {
  backoffDelayMs,
  isTerminalStepError,
  retryPolicyOf,
  type RetryPolicy,
} from "./retry-policy.js";
import { checkPayloadSize, decodeValue, encodeValue } from "./serialize.js";
import { recordedVersion } from "./shapes.js";
import { encodePart, type StreamPart } from "./stream.js";
import type { SqlTransaction, StepContext, StepOptions } from "./types.js";
import { normalizeUsage, type Usage } from "./usage.js";

type Body = (step: StepContext & { tx?: SqlTransaction | undefined }) => unknown;

/** What a step body receives; the run's signal is only made if the body asks for it. */
class BodyContext implements StepContext {
  readonly idempotencyKey: string;
  readonly runId: string;
  constructor(
    private readonly scope: OpScope,
    readonly stepKey: string,
    readonly attempt: number,
    private readonly own: AbortController | null,
    readonly tx: SqlTransaction | undefined,
  ) {
    this.runId = scope.runId;
    this.idempotencyKey = `${scope.runId}/${stepKey}`;
  }

  get signal(): AbortSignal {
    return this.own?.signal ?? this.scope.runSignal;
  }

  /** An arrow, so that a body may destructure it. */
  readonly emit = (part: StreamPart): void => {
    const data = encodePart(part, `part emitted by step '${this.stepKey}'`);
    if (this.scope.ended) return;
    this.scope.port.emit({ key: null, at: this.scope.port.clock.now(), data });
  };
}

/** Where a step stands according to its journal entries (none on a first execution). */
interface Progress {
  lastAttempt: number;
  failures: number;
  retryAt: number | null;
  /** The last attempt started and never ended: a crash interrupted it. */
  interrupted: boolean;
}

type AttemptResult =
  | { ok: true; encoded: string; usage: Usage | undefined }
  | { ok: "settled" }
  | { ok: false; error: Error; verification: boolean }
  | { ok: "halted" };

/** Executes step `op` until it succeeds, fails for good, or the run halts. */
export async function runStep(
  scope: OpScope,
  op: Op,
  body: Body,
  options: StepOptions<unknown>,
  prior: readonly JournalEntry[] | undefined,
): Promise<void> {
  const name = op.key.slice(0, op.key.lastIndexOf("#"));
  let policy: RetryPolicy;
  let rate: RateLimit | null;
  try {
    policy = retryPolicyOf(options, name);
    rate = rateLimitOf(options.rateLimit, name);
  } catch (e) {
    settleFailure(scope, op, ensureError(e), 0);
    return;
  }
  const progress = progressOf(prior);
  if (progress.interrupted && options.atMostOnce === true) {
    const error = new StepInterruptedError(
      `step '${op.key}' of run ${scope.runId} was interrupted by a crash during attempt ` +
        `${progress.lastAttempt}; it is atMostOnce, so it is not run again. Check whether its ` +
        "effect happened, then handle this error in the workflow",
    );
    settleFailure(scope, op, error, progress.lastAttempt);
    return;
  }
  let { lastAttempt: attempt, failures, retryAt } = progress;
  for (;;) {
    if (retryAt !== null) await scope.waitUntil(op.position, retryAt);
    attempt++;
    scope.bodyStarted();
    let result: AttemptResult;
    try {
      result = await runAttempt(scope, op, body, options, policy, attempt, rate);
    } finally {
      scope.bodyEnded();
    }
    if (result.ok === "halted" || result.ok === "settled" || scope.ended || !scope.isCurrent(op))
      return;
    if (result.ok) {
      settleSuccess(scope, op, result.encoded, attempt, result.usage);
      return;
    }
    failures++;
    if (isTerminalStepError(result.error) || failures > policy.retries) {
      settleFailure(scope, op, result.error, attempt);
      return;
    }
    const delayMs = retryDelayMs(result.error, policy, failures, scope.port.entropy());
    retryAt = scope.port.clock.now() + delayMs;
    scope.append({
      type: result.verification ? "step_verification_failed" : "step_attempt_failed",
      at: scope.port.clock.now(),
      position: op.position,
      key: op.key,
      data: entryData.step_attempt_failed({
        attempt,
        attempts: policy.retries + 1,
        retryAt,
        delayMs,
        error: encodeError(result.error),
      }),
    });
    // A failure is durable before the wait, so a crash never resets the attempt count.
    await scope.port.durable();
    if (scope.ended || !scope.isCurrent(op)) return;
  }
}

async function runAttempt(
  scope: OpScope,
  op: Op,
  body: Body,
  options: StepOptions<unknown>,
  policy: RetryPolicy,
  attempt: number,
  rate: RateLimit | null,
): Promise<AttemptResult> {
  // Write-ahead: nothing a step does may precede the commit of what came before it.
  await scope.port.durable();
  if (scope.ended || scope.draining || !scope.isCurrent(op)) return { ok: "halted" };
  if (rate !== null) {
    await scope.port.acquireRate(rate);
    if (scope.ended || scope.draining || !scope.isCurrent(op)) return { ok: "halted" };
  }
  const started = startedEntry(scope, op, attempt);
  if (options.transactional === true)
    return runTransactional(scope, op, body, options, policy, attempt, started);
  scope.append(started);
  if (options.atMostOnce === true) {
    await scope.port.durable();
    if (scope.ended) return { ok: "halted" };
  }
  try {
    const encoded = await callBody(scope, op, body, options, policy, attempt, undefined);
    return { ok: true, encoded, usage: meter(scope, op, options, encoded) };
  } catch (e) {
    return {
      ok: false,
      error: ensureError(e),
      verification: isEndureError(e, "verification_failed"),
    };
  }
}

async function runTransactional(
  scope: OpScope,
  op: Op,
  body: Body,
  options: StepOptions<unknown>,
  policy: RetryPolicy,
  attempt: number,
  started: NewEntry,
): Promise<AttemptResult> {
  // One transactional step at a time per run, and no other result reaches the code while it
  // is open: its entries commit after everything queued before it, so the code must see it
  // before anything settled during it, to match the journal's order on replay.
  return scope.serially(async () => {
    const release = scope.holdSettlements();
    let encoded = "";
    try {
      await scope.port.transaction(async (tx) => {
        encoded = await callBody(scope, op, body, options, policy, attempt, tx);
        if (scope.ended || !scope.isCurrent(op))
          throw new Error("run halted during a transactional step");
        const usage = meter(scope, op, options, encoded);
        return [started, succeededEntry(scope, op, encoded, attempt, usage)];
      });
      scope.countCommitted(2);
      const value = decodeValue(encoded);
      scope.settleLive(op, () => op.resolve(value), { first: true });
      return { ok: "settled" } as const;
    } catch (e) {
      if (scope.ended) return { ok: "halted" } as const;
      // The transaction rolled back: record that the attempt started, then that it failed.
      scope.append(started);
      return {
        ok: false,
        error: ensureError(e),
        verification: isEndureError(e, "verification_failed"),
      } as const;
    } finally {
      release();
    }
  });
}

/** Runs the body once with its timeout, serializes and verifies its result. */
async function callBody(
  scope: OpScope,
  op: Op,
  body: Body,
  options: StepOptions<unknown>,
  policy: RetryPolicy,
  attempt: number,
  tx: SqlTransaction | undefined,
): Promise<string> {
  // Only a body with a timeout needs a signal of its own; the others share the run's.
  const own = policy.timeoutMs === null ? null : scope.controller();
  const ctx = new BodyContext(scope, op.key, attempt, own?.controller ?? null, tx);
  let timer: { cancel(): void } | null = null;
  try {
    let result: unknown = body(ctx);
    if (policy.timeoutMs !== null && own !== null) {
      const ms = policy.timeoutMs;
      const timedOut = new Promise<never>((_, reject) => {
        timer = scope.port.clock.setTimer(ms, () => {
          const error = new StepTimeoutError(
            `step '${op.key}' attempt ${attempt} ran past its timeout of ${ms} ms`,
          );
          own.controller.abort(error);
          reject(error);
        });
      });
      result = Promise.race([result, timedOut]);
    }
    const value = await result;
    const what = `step '${op.key}' result`;
    const encoded = encodeValue(value, what);
    const bytes = checkPayloadSize(encoded, scope.port.limits.resultBytesMax, what);
    if (bytes > scope.port.limits.payloadBytesWarn) {
      scope.port.warn(
        `${what} of run ${scope.runId} is ${bytes} bytes; consider journaling a reference instead`,
      );
    }
    if (options.verify !== undefined)
      await verify(options.verify, decodeValue(encoded), op, attempt);
    return encoded;
  } finally {
    (timer as { cancel(): void } | null)?.cancel();
    own?.release();
  }
}

async function verify(
  check: NonNullable<StepOptions<unknown>["verify"]>,
  value: unknown,
  op: Op,
  attempt: number,
): Promise<void> {
  let verdict: boolean | string | void;
  try {
    verdict = await check(value);
  } catch (e) {
    throw new VerificationFailedError(
      `step '${op.key}' attempt ${attempt} failed verification: ${ensureError(e).message}`,
      { cause: e },
    );
  }
  if (verdict === false || typeof verdict === "string") {
    const reason = typeof verdict === "string" ? verdict : "verify returned false";
    throw new VerificationFailedError(
      `step '${op.key}' attempt ${attempt} failed verification: ${reason}`,
    );
  }
}

function retryDelayMs(error: Error, policy: RetryPolicy, failures: number, unit: number): number {
  if (isEndureError(error, "retry_after")) {
    // RetryAfterError refuses a delay that is not one when it is made; only an object that
    // imitates its code can get here with a bad delay, and it gets the step's backoff.
    const reading = readDuration((error as RetryAfterError).delay);
    if (reading.kind === "ms") return reading.ms;
  }
  return backoffDelayMs(policy, failures, unit);
}

function progressOf(prior: readonly JournalEntry[] | undefined): Progress {
  const progress: Progress = { lastAttempt: 0, failures: 0, retryAt: null, interrupted: false };
  for (const entry of prior ?? []) {
    if (entry.type === "step_attempt_started") {
      const data = readEntryData(entry, "step_attempt_started");
      progress.lastAttempt = Math.max(progress.lastAttempt, data.attempt);
      progress.interrupted = true;
      progress.retryAt = null;
    } else if (entry.type === "step_attempt_failed" || entry.type === "step_verification_failed") {
      const data = readEntryData(entry, entry.type);
      progress.lastAttempt = Math.max(progress.lastAttempt, data.attempt);
      progress.failures++;
      progress.interrupted = false;
      progress.retryAt = data.retryAt;
    }
  }
  return progress;
}

function startedEntry(scope: OpScope, op: Op, attempt: number): NewEntry {
  return {
    type: "step_attempt_started",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.step_attempt_started({ attempt, site: attempt > 1 ? null : op.site }),
  };
}

function succeededEntry(
  scope: OpScope,
  op: Op,
  encoded: string,
  attempt: number,
  usage: Usage | undefined,
): NewEntry {
  const entry: NewEntry = {
    type: "step_succeeded",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.step_succeeded({
      attempt,
      usage,
      shape: recordedVersion(op.shape),
      result: encoded,
    }),
  };
  return usage === undefined ? entry : { ...entry, usage };
}

/** What a metered step's result used; a meter that fails or answers nonsense is logged and
 * counts nothing, since the work it measures is done and must not run again. */
function meter(
  scope: OpScope,
  op: Op,
  options: StepOptions<unknown>,
  encoded: string,
): Usage | undefined {
  if (options.usage === undefined) return undefined;
  let reported: unknown;
  try {
    reported = options.usage(decodeValue(encoded));
  } catch (e) {
    scope.port.warn(
      `step '${op.key}' of run ${scope.runId}: usage() threw (${ensureError(e).message}); nothing was counted`,
    );
    return undefined;
  }
  if (reported === undefined) return undefined;
  const usage = normalizeUsage(reported);
  if (usage === null) {
    scope.port.warn(
      `step '${op.key}' of run ${scope.runId}: usage() returned ${JSON.stringify(reported)}, not token counts and a cost of at least 0; nothing was counted`,
    );
    return undefined;
  }
  return usage;
}

function settleSuccess(
  scope: OpScope,
  op: Op,
  encoded: string,
  attempt: number,
  usage: Usage | undefined,
): void {
  scope.append(succeededEntry(scope, op, encoded, attempt, usage));
  const value = decodeResult(encoded);
  scope.settleLive(op, () => op.resolve(value));
}

function settleFailure(scope: OpScope, op: Op, error: Error, attempts: number): void {
  const encoded = encodeError(error);
  scope.append({
    type: "step_failed",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.step_failed({ attempts, error: encoded }),
  });
  // The code sees the error as the journal holds it, on the first run as on replay.
  const decoded = decodeValue(encoded);
  scope.settleLive(op, () => op.reject(decoded), { failed: true });
}

/** Decodes a result as replay will; plain numbers and `true`/`false`/`null` skip the parser. */
function decodeResult(encoded: string): unknown {
  const c = encoded.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    const n = Number(encoded);
    if (Number.isFinite(n) && !Object.is(n, -0)) return n;
  }
  if (encoded === "true") return true;
  if (encoded === "false") return false;
  if (encoded === "null") return null;
  return decodeValue(encoded);
}
