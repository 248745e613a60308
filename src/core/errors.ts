// Deterministic: the error family every boundary of endure speaks. No I/O.

/** Options every endure error accepts. */
export interface EndureErrorOptions {
  /** The error that caused this one, kept in the journal with it. */
  cause?: unknown;
}

/**
 * Base class of every operating error endure raises. Each subclass has a stable string
 * `code` (documented in `docs/errors/<code>.md`) and a message that says what to do.
 * Recognize errors with {@link isEndureError} rather than `instanceof`, which fails across
 * package copies and after an error went through the journal.
 *
 * @example
 * ```ts
 * try { await engine.start(wf, input) }
 * catch (e) { if (isEndureError(e, "input_invalid")) console.error(e.message) }
 * ```
 */
export class EndureError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options: EndureErrorOptions = {}) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `error` is an endure error, optionally with the given `code`. */
export function isEndureError(error: unknown, code?: string): error is EndureError {
  if (typeof error !== "object" || error === null) return false;
  const c = (error as { code?: unknown }).code;
  const isOurs = error instanceof EndureError || typeof c === "string";
  return isOurs && (code === undefined || c === code);
}

function define(code: string, name: string) {
  const cls = class extends EndureError {
    constructor(message: string, options?: EndureErrorOptions) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

/** An argument was malformed (an empty step name, a negative duration, ...). */
export class InvalidArgumentError extends define("invalid_argument", "InvalidArgumentError") {}
/** No workflow with this name is registered on the engine. */
export class WorkflowNotFoundError extends define("workflow_not_found", "WorkflowNotFoundError") {}
/** Two workflows were registered under one name. */
export class DuplicateWorkflowError extends define(
  "workflow_duplicate",
  "DuplicateWorkflowError",
) {}
/** A run id is already taken by a run of another workflow. */
export class RunIdConflictError extends define("run_id_conflict", "RunIdConflictError") {}
/** No run with this id exists in the store. */
export class RunNotFoundError extends define("run_not_found", "RunNotFoundError") {}
/** A workflow input failed its schema. Nothing was stored. */
export class InputValidationError extends define("input_invalid", "InputValidationError") {}
/** A workflow output failed its schema; the run failed with this error. */
export class OutputValidationError extends define("output_invalid", "OutputValidationError") {}
/** A value cannot be written to the journal (a function, a cycle, a class instance, ...). */
export class SerializationError extends define("value_not_serializable", "SerializationError") {}
/** A value is larger than the configured payload limit. */
export class PayloadTooLargeError extends define("payload_too_large", "PayloadTooLargeError") {}
/** A run's journal reached its length limit (usually a loop that never ends). */
export class JournalLimitError extends define("journal_too_long", "JournalLimitError") {}
/** A step's attempt ran past its `timeout`. */
export class StepTimeoutError extends define("step_timeout", "StepTimeoutError") {}
/** A step's `verify` check refused its result. */
export class VerificationFailedError extends define(
  "verification_failed",
  "VerificationFailedError",
) {}
/** An `atMostOnce` step was interrupted by a crash; it is not run again. */
export class StepInterruptedError extends define("step_interrupted", "StepInterruptedError") {}
/** The run was cancelled; awaiting its result raises this. */
export class RunCancelledError extends define("run_cancelled", "RunCancelledError") {}
/** The run outlived its workflow's `ttl`; awaiting its result raises this. */
export class RunTimedOutError extends define("run_timed_out", "RunTimedOutError") {}
/** The run has ended: it takes no more signals, decisions or cancellation. */
export class RunFinishedError extends define("run_finished", "RunFinishedError") {}
/** No open approval by this name exists on the run. */
export class ApprovalNotFoundError extends define("approval_not_found", "ApprovalNotFoundError") {}
/** The approval was decided already (or this person decided it already). */
export class ApprovalDecidedError extends define("approval_decided", "ApprovalDecidedError") {}
/** This person (or role) may not decide this approval. */
export class ApprovalNotAllowedError extends define(
  "approval_not_allowed",
  "ApprovalNotAllowedError",
) {}
/** The run is paused (non-determinism, a crash loop) and needs attention before it goes on. */
export class RunPausedError extends define("run_paused", "RunPausedError") {}
/** This worker lost its lease on a run; its late commits are refused. */
export class LeaseLostError extends define("lease_lost", "LeaseLostError") {}
/** The engine was closed; no more work is accepted. */
export class EngineClosedError extends define("engine_closed", "EngineClosedError") {}
/** A store file or database is not an endure store. */
export class StoreNotEndureError extends define("store_not_endure", "StoreNotEndureError") {}
/** The store was written by a newer endure; this code cannot read it safely. */
export class StoreTooNewError extends define("store_too_new", "StoreTooNewError") {}
/** The store cannot be written (read-only file, directory or database). */
export class StoreReadOnlyError extends define("store_read_only", "StoreReadOnlyError") {}
/** The store is damaged. */
export class StoreCorruptError extends define("store_corrupt", "StoreCorruptError") {}
/** The store cannot be reached or failed an operation. */
export class StoreUnavailableError extends define("store_unavailable", "StoreUnavailableError") {}

/**
 * Thrown by a step body to stop retrying: the step fails at once with this error.
 *
 * @example
 * ```ts
 * await ctx.step("charge", async () => {
 *   if (card.expired) throw new NonRetriableError("card expired");
 * });
 * ```
 */
export class NonRetriableError extends define("non_retriable", "NonRetriableError") {}

/**
 * Thrown by a step body to retry after a given delay (a rate limit's `Retry-After`).
 * `delay` is milliseconds or a duration string such as `"30s"`.
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new RetryAfterError(res.headers.get("retry-after") + "s");
 * ```
 */
export class RetryAfterError extends EndureError {
  readonly delay: number | string;
  constructor(delay: number | string, message?: string, options?: EndureErrorOptions) {
    super("retry_after", message ?? `retry after ${String(delay)}`, options);
    this.name = "RetryAfterError";
    this.delay = delay;
  }
}

/**
 * Raised when replayed code asks for a different operation than the journal recorded at the
 * same position. The run is paused, not failed: deploy code that matches the journal and
 * the engine resumes it.
 */
export class NonDeterminismError extends EndureError {
  readonly runId: string;
  readonly position: number;
  readonly recorded: string;
  readonly requested: string;
  constructor(fields: {
    runId: string;
    position: number;
    recorded: string;
    requested: string;
    hint?: string;
  }) {
    super(
      "non_determinism",
      `run ${fields.runId} diverged from its journal at position ${fields.position}: ` +
        `the journal recorded ${fields.recorded}, but the code asked for ${fields.requested}. ` +
        (fields.hint ?? "") +
        "Workflow code between steps must be deterministic; restore the code that made this run " +
        "(or version the workflow) and the run resumes where it stopped.",
    );
    this.name = "NonDeterminismError";
    this.runId = fields.runId;
    this.position = fields.position;
    this.recorded = fields.recorded;
    this.requested = fields.requested;
  }
}

const errorClasses: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
for (const cls of [
  RunTimedOutError,
  RunFinishedError,
  ApprovalNotFoundError,
  ApprovalDecidedError,
  ApprovalNotAllowedError,
  InvalidArgumentError,
  WorkflowNotFoundError,
  DuplicateWorkflowError,
  RunIdConflictError,
  RunNotFoundError,
  InputValidationError,
  OutputValidationError,
  SerializationError,
  PayloadTooLargeError,
  JournalLimitError,
  StepTimeoutError,
  VerificationFailedError,
  StepInterruptedError,
  RunCancelledError,
  RunPausedError,
  LeaseLostError,
  EngineClosedError,
  StoreNotEndureError,
  StoreTooNewError,
  StoreReadOnlyError,
  StoreCorruptError,
  StoreUnavailableError,
  NonRetriableError,
]) {
  errorClasses[cls.name] = cls;
}
errorClasses["RetryAfterError"] = RetryAfterError;
errorClasses["NonDeterminismError"] = NonDeterminismError as unknown as new (
  message: string,
) => Error;
errorClasses["EndureError"] = EndureError as unknown as new (message: string) => Error;

/** The class to restore a journaled error with, by its `name`; `Error` when unknown. */
export function errorClassFor(name: string): new (message: string) => Error {
  return errorClasses[name] ?? Error;
}

/** Turns anything thrown into an `Error` (a thrown string becomes its message). */
export function ensureError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "object" && thrown !== null && "message" in thrown) {
    const e = new Error(String(thrown.message));
    Object.assign(e, thrown);
    return e;
  }
  return new Error(typeof thrown === "string" ? thrown : `non-error thrown: ${String(thrown)}`);
}
