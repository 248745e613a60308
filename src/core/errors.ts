// Deterministic: the error family every boundary of endure speaks. No I/O.
import { readDuration } from "./duration-text.js";
import { DURATION_MS_MAX } from "./limits.js";

/** Options every endure error accepts. */
export interface EndureErrorOptions {
  /** The error that caused this one, kept in the journal with it. */
  cause?: unknown;
}

/**
 * Every `code` an endure error can carry; each has a page in `docs/errors/<code>.md`.
 * Branch on it with {@link isEndureError}.
 */
export type EndureErrorCode =
  | "invalid_argument"
  | "workflow_not_found"
  | "workflow_duplicate"
  | "run_id_conflict"
  | "run_not_found"
  | "input_invalid"
  | "output_invalid"
  | "value_not_serializable"
  | "payload_too_large"
  | "journal_too_long"
  | "step_timeout"
  | "verification_failed"
  | "step_interrupted"
  | "run_cancelled"
  | "run_timed_out"
  | "run_finished"
  | "query_not_found"
  | "query_refused"
  | "update_not_found"
  | "update_rejected"
  | "approval_not_found"
  | "approval_decided"
  | "approval_not_allowed"
  | "run_paused"
  | "lease_lost"
  | "engine_closed"
  | "store_not_endure"
  | "store_too_new"
  | "store_read_only"
  | "store_corrupt"
  | "store_unavailable"
  | "store_timeout"
  | "store_outdated"
  | "key_not_found"
  | "payload_tampered"
  | "run_shredded"
  | "blob_missing"
  | "non_retriable"
  | "retry_after"
  | "non_determinism"
  | "upcast_failed"
  | "position_not_found"
  | "run_active"
  | "operation_cancelled"
  | "combinator_failed"
  | "wait_abandoned"
  | "compensation_failed"
  | "child_run_failed"
  | "child_run_cycle"
  | "continue_refused"
  | "budget_exceeded"
  | "max_turns_exceeded"
  | "model_empty_reply"
  | "model_timeout"
  | "model_unavailable"
  | "model_response_invalid"
  | "a2a_unavailable"
  | "a2a_response_invalid"
  | "a2a_request_refused"
  | "a2a_task_not_found"
  | "a2a_task_failed"
  // The HTTP API's own refusals (endure/server), which its client throws back as ApiError.
  | "unauthorized"
  | "forbidden"
  | "signature_invalid"
  | "route_not_found"
  | "live_connections_full"
  | "internal_error"
  // An answer that is not the API's (a proxy's error page), as the client reports it.
  | "http_error";

/**
 * The brand every endure error carries on its prototype. `Symbol.for` makes it the same
 * symbol in every copy of the package, so two installed versions still recognize each
 * other's errors, while a Node `ENOENT` or a driver error with a string `code` does not.
 */
const ENDURE_ERROR_BRAND: unique symbol = Symbol.for("endure.error") as never;

/**
 * Base class of every operating error endure raises. Each subclass has a stable string
 * `code` (documented in `docs/errors/<code>.md`) and a message that says what to do.
 * Recognize errors with {@link isEndureError} rather than `instanceof`, which fails across
 * package copies. `JSON.stringify(error)` gives its plain {@link ErrorRecord}.
 *
 * @example
 * ```ts
 * try { await engine.start(wf, input) }
 * catch (e) { if (isEndureError(e, "input_invalid")) console.error(e.message) }
 * ```
 */
export class EndureError extends Error {
  readonly code: EndureErrorCode;
  constructor(code: EndureErrorCode, message: string, options: EndureErrorOptions = {}) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
  }

  /** The brand {@link isEndureError} looks for; on the prototype, so restored errors have it. */
  get [ENDURE_ERROR_BRAND](): true {
    return true;
  }

  /** The error as plain data: `{ name, code, message, stack, cause, props }`. */
  toJSON(): ErrorRecord {
    return errorRecord(this);
  }
}

/**
 * True when `error` is one of endure's errors (branded by this package, in any copy of it),
 * optionally with the given `code`. A foreign error that merely has a string `code` (a
 * Node `ENOENT`, a PostgreSQL `23505`) is not taken for one.
 */
export function isEndureError(error: unknown, code?: EndureErrorCode): error is EndureError {
  if (typeof error !== "object" || error === null) return false;
  if ((error as { [ENDURE_ERROR_BRAND]?: unknown })[ENDURE_ERROR_BRAND] !== true) return false;
  const c = (error as { code?: unknown }).code;
  return typeof c === "string" && (code === undefined || c === code);
}

/** An error as plain, JSON-ready data, as endure persists and logs it. */
export interface ErrorRecord {
  name: string;
  message: string;
  /** Present on endure's errors and on foreign errors that carry a string code. */
  code?: string;
  /** True for endure's own errors. */
  endure?: true;
  stack?: string;
  cause?: ErrorRecord | PlainData;
  /** Other own enumerable fields, reduced to plain data. */
  props?: { [key: string]: PlainData };
}

/** JSON-ready data. */
export type PlainData = null | boolean | number | string | PlainData[] | { [k: string]: PlainData };

const RECORD_DEPTH_MAX = 8;

/** Turns anything thrown into an {@link ErrorRecord} of plain data (never throws). */
export function errorRecord(thrown: unknown, depth = 0): ErrorRecord {
  const error = ensureError(thrown);
  const out: ErrorRecord = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (isEndureError(error)) out.endure = true;
  if (typeof error.stack === "string") out.stack = error.stack;
  const props: { [key: string]: PlainData } = {};
  for (const key of Object.keys(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "code") continue;
    props[key] = plainData((error as unknown as Record<string, unknown>)[key], depth + 1);
  }
  if (Object.keys(props).length > 0) out.props = props;
  if (error.cause !== undefined)
    out.cause =
      error.cause instanceof Error && depth < RECORD_DEPTH_MAX
        ? errorRecord(error.cause, depth + 1)
        : plainData(error.cause, depth + 1);
  return out;
}

function plainData(value: unknown, depth: number): PlainData {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "undefined") return null;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return `[function ${value.name || "anonymous"}]`;
  if (depth >= RECORD_DEPTH_MAX) return "[nested too deep]";
  if (value instanceof Error) return errorRecord(value, depth) as unknown as PlainData;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => plainData(v, depth + 1));
  const out: { [k: string]: PlainData } = {};
  for (const key of Object.keys(value))
    out[key] = plainData((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

function define(code: EndureErrorCode, name: string) {
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

/** A query asked of a run that registered no handler of that name (`ctx.onQuery`). */
export class QueryNotFoundError extends define("query_not_found", "QueryNotFoundError") {}

/** A query handler tried to change the run (start a step or a wait, record a value, emit). */
export class QueryRefusedError extends define("query_refused", "QueryRefusedError") {}

/** An update sent to a run that registered no handler of that name (`ctx.onUpdate`). */
export class UpdateNotFoundError extends define("update_not_found", "UpdateNotFoundError") {}

/** An update's validator refused its arguments; nothing was journaled. */
export class UpdateRejectedError extends define("update_rejected", "UpdateRejectedError") {}
/** The approval was decided already (or this person decided it already). */
export class ApprovalDecidedError extends define("approval_decided", "ApprovalDecidedError") {}
/** This person (or role) may not decide this approval. */
export class ApprovalNotAllowedError extends define(
  "approval_not_allowed",
  "ApprovalNotAllowedError",
) {}
/**
 * The run is paused (non-determinism, a crash loop) and needs attention before it goes on.
 * `run.result()` rejects with it when the run pauses; `cause` is what paused it (the
 * {@link NonDeterminismError} with the divergence). After `engine.resume(runId)`, a new
 * `result()` waits for the run again.
 *
 * @example
 * ```ts
 * try { await run.result() }
 * catch (e) { if (isEndureError(e, "run_paused")) console.error(e.reason, e.cause) }
 * ```
 */
export class RunPausedError extends EndureError {
  /** The paused run, when known. */
  readonly runId: string | undefined;
  /** Why it paused: `non_determinism` or `crash_loop`. */
  readonly reason: string | undefined;
  constructor(
    message: string,
    options: EndureErrorOptions & { runId?: string; reason?: string } = {},
  ) {
    super("run_paused", message, "cause" in options ? { cause: options.cause } : {});
    this.name = "RunPausedError";
    this.runId = options.runId;
    this.reason = options.reason;
  }
}

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
/** The store did not answer in time (a statement timeout, a lock held too long). */
export class StoreTimeoutError extends define("store_timeout", "StoreTimeoutError") {}
/** The store's schema is older than this code and migrations were not to be applied on open. */
export class StoreOutdatedError extends define("store_outdated", "StoreOutdatedError") {}
/**
 * A payload was sealed (encrypted) with a key this engine does not hold: no codec, a key
 * ring without that key id, or a different key under that id. The message names the key id.
 */
export class KeyNotFoundError extends define("key_not_found", "KeyNotFoundError") {}
/**
 * A sealed payload failed authentication: its ciphertext, key id or envelope was changed
 * after it was written. The message names the payload (run, journal entry); nothing else
 * is read from it.
 */
export class PayloadTamperedError extends define("payload_tampered", "PayloadTamperedError") {}
/**
 * The run was shredded (`engine.shred`, `endure shred`): its data key is deleted, so its
 * payloads cannot be read again and it cannot be retried or resumed. Its journal's structure
 * (who did what when, its hashes) is still there.
 */
export class RunShreddedError extends define("run_shredded", "RunShreddedError") {}
/**
 * A payload stored by reference (over `blobs.thresholdBytes`) is not in the blob store. The
 * message names the content hash and the run.
 */
export class BlobMissingError extends define("blob_missing", "BlobMissingError") {}

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
  /** `delay` in milliseconds, checked when the error is made. */
  readonly delayMs: number;
  constructor(delay: number | string, message?: string, options?: EndureErrorOptions) {
    const reading = readDuration(delay);
    if (reading.kind !== "ms") {
      // Refused where it is made: a delay that means nothing must not quietly become the
      // step's normal backoff.
      throw new InvalidArgumentError(
        `RetryAfterError delay ${JSON.stringify(delay)} is not a duration endure accepts; ` +
          `give milliseconds from 0 to ${DURATION_MS_MAX} or a string such as "30s" or "5m"`,
      );
    }
    super("retry_after", message ?? `retry after ${String(delay)}`, options);
    this.name = "RetryAfterError";
    this.delay = delay;
    this.delayMs = reading.ms;
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
  /** Where the journal's call was made (`file:line:column`), when it was recorded. */
  readonly recordedSite: string | null;
  /** Where the code made its call instead, when known. */
  readonly requestedSite: string | null;
  constructor(fields: {
    runId: string;
    position: number;
    recorded: string;
    requested: string;
    hint?: string;
    recordedSite?: string | null;
    requestedSite?: string | null;
  }) {
    super(
      "non_determinism",
      `run ${fields.runId} diverged from its journal at position ${fields.position}: ` +
        `the journal recorded ${fields.recorded}, but the code asked for ${fields.requested}. ` +
        (fields.hint ?? "") +
        "Workflow code between steps must be deterministic; restore the code that made this run " +
        "and the run resumes where it stopped, or keep both paths behind ctx.patched(id), or " +
        "register the old code as its own version of the workflow (see docs/evolving.md).",
    );
    this.name = "NonDeterminismError";
    this.runId = fields.runId;
    this.position = fields.position;
    this.recorded = fields.recorded;
    this.requested = fields.requested;
    this.recordedSite = fields.recordedSite ?? null;
    this.requestedSite = fields.requestedSite ?? null;
  }
}

/**
 * A journaled payload could not be brought up to the shape the code declares (see
 * `PayloadShape`): its upcaster threw, is missing, or the journal holds a newer shape than the
 * code knows. The run is paused and its journal unchanged: fix the code, then resume it.
 */
export class UpcastFailedError extends define("upcast_failed", "UpcastFailedError") {}

/** A rewind asked of a run that has not ended: cancel it first, then rewind it. */
export class RunActiveError extends define("run_active", "RunActiveError") {}

/** A rewind or a fork named a step or a position that the run's journal does not hold. */
export class PositionNotFoundError extends define("position_not_found", "PositionNotFoundError") {}

/**
 * An operation lost `ctx.race` (or another combinator) and was withdrawn before it ended:
 * awaiting it elsewhere raises this. A wait withdrawn takes no event; a sleep stops.
 */
export class OperationCancelledError extends define(
  "operation_cancelled",
  "OperationCancelledError",
) {}

/**
 * `ctx.any` saw every operation fail, or `ctx.some(k, ...)` saw so many fail that `k` can no
 * longer succeed. `errors` holds the failures, in input order (null where one did not fail).
 *
 * @example
 * ```ts
 * try { await ctx.any([ctx.step("a", a), ctx.step("b", b)]) }
 * catch (e) { if (isEndureError(e, "combinator_failed")) console.error(e.errors) }
 * ```
 */
export class CombinatorFailedError extends EndureError {
  readonly errors: readonly unknown[];
  constructor(message: string, errors: readonly unknown[] = [], options?: EndureErrorOptions) {
    super("combinator_failed", message, options);
    this.name = "CombinatorFailedError";
    this.errors = errors;
  }
}

/**
 * The code asked for a wait while an earlier wait for the same thing was still open after
 * the code had moved on past it: the mark of a plain `Promise.race` whose losing wait was
 * left behind, and would take the event meant for the new one. Use `ctx.race`, which
 * withdraws the waits that lose.
 */
export class AbandonedWaitError extends define("wait_abandoned", "AbandonedWaitError") {}

/**
 * A run failed (or was cancelled) and undoing its steps failed too: one or more `compensate`
 * undos still failed after their retries. `cause` is the run's original error; `failures`
 * names the undos that failed, with their errors' messages. The undos that succeeded ran.
 */
export class CompensationFailedError extends EndureError {
  readonly failures: readonly string[];
  constructor(message: string, failures: readonly string[] = [], options?: EndureErrorOptions) {
    super("compensation_failed", message, options);
    this.name = "CompensationFailedError";
    this.failures = failures;
  }
}

/**
 * A child run (`ctx.invoke`) did not complete: it failed, was cancelled or timed out, or the
 * parent stopped waiting for it (its invoke `timeout`). `childRunId` and `childWorkflow` name
 * it, `childStatus` says how it ended, and `cause` holds the child's own error.
 *
 * @example
 * ```ts
 * try { await ctx.invoke("research", research, { query }) }
 * catch (e) { if (isEndureError(e, "child_run_failed")) await ctx.step("fallback", fallback) }
 * ```
 */
export class ChildRunFailedError extends EndureError {
  readonly childRunId: string;
  readonly childWorkflow: string;
  readonly childStatus: "failed" | "cancelled" | "timed_out";
  constructor(
    message: string,
    child: {
      runId: string;
      workflow: string;
      status: "failed" | "cancelled" | "timed_out";
    } = { runId: "", workflow: "", status: "failed" },
    options?: EndureErrorOptions,
  ) {
    super("child_run_failed", message, options);
    this.name = "ChildRunFailedError";
    this.childRunId = child.runId;
    this.childWorkflow = child.workflow;
    this.childStatus = child.status;
  }
}

/**
 * `ctx.invoke` named, with its `id` option, a run that is not a child of the invoking run:
 * the invoking run itself or one of its ancestors (a run waiting on itself through children),
 * or a run started elsewhere. Nothing was started; give the child an id of its own.
 */
export class ChildRunCycleError extends define("child_run_cycle", "ChildRunCycleError") {}

/**
 * `ctx.continueAsNew` was called where the run cannot carry on in a fresh journal segment:
 * inside a step body (or while a step body runs), while steps with `compensate` have undos
 * registered (they would be lost with the segment), during a cancellation's cleanup or a
 * failure's undos, or from a query handler. Nothing was journaled.
 */
export class ContinueAsNewRefusedError extends define(
  "continue_refused",
  "ContinueAsNewRefusedError",
) {}

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
