// Deterministic: the errors endure/ai raises. Each has a stable `code` with a page in
// docs/errors/<code>.md; recognize them with isEndureError(e, code). They live in core, beside
// the rest of the family, so that any process reading a journal (a CLI, a server without
// endure/ai loaded) restores them as their own classes; endure/ai re-exports them.
import { EndureError, type EndureErrorOptions } from "./errors.js";

/**
 * An agent stopped before a model call that would have taken it over its budget.
 *
 * @example
 * ```ts
 * try { await run.result() } catch (e) { if (isEndureError(e, "budget_exceeded")) notifyOwner(e.message) }
 * ```
 */
export class BudgetExceededError extends EndureError {
  constructor(message: string, options?: EndureErrorOptions) {
    super("budget_exceeded", message, options);
    this.name = "BudgetExceededError";
  }
}

/**
 * An agent used all its turns without giving a final answer.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "max_turns_exceeded")) console.log("give it more turns") }
 * ```
 */
export class MaxTurnsExceededError extends EndureError {
  constructor(message: string, options?: EndureErrorOptions) {
    super("max_turns_exceeded", message, options);
    this.name = "MaxTurnsExceededError";
  }
}

/**
 * A model kept answering with nothing: no text and no tool call.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "model_empty_reply")) switchModel() }
 * ```
 */
export class EmptyReplyError extends EndureError {
  constructor(message: string, options?: EndureErrorOptions) {
    super("model_empty_reply", message, options);
    this.name = "EmptyReplyError";
  }
}

/**
 * A model request ran past the adapter's `timeout` and was aborted. Retried like a 5xx.
 *
 * @example
 * ```ts
 * const model = openaiCompatible({ model: "gpt-4.1-mini", apiKey, timeout: "5m" });
 * ```
 */
export class ModelTimeoutError extends EndureError {
  constructor(message: string, options?: EndureErrorOptions) {
    super("model_timeout", message, options);
    this.name = "ModelTimeoutError";
  }
}

/**
 * A model provider could not answer (5xx, overloaded, network failure, 429 without
 * `Retry-After`). Retried with backoff.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "model_unavailable")) console.log("provider down") }
 * ```
 */
export class ModelUnavailableError extends EndureError {
  /** The HTTP status, when there was a response. */
  readonly status: number | null;
  constructor(message: string, status: number | null, options?: EndureErrorOptions) {
    super("model_unavailable", message, options);
    this.name = "ModelUnavailableError";
    this.status = status;
  }
}

/**
 * A provider answered with a body endure cannot read (not JSON, no choices, a broken
 * stream). Retried with backoff.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "model_response_invalid")) checkGateway() }
 * ```
 */
export class ModelResponseError extends EndureError {
  constructor(message: string, options?: EndureErrorOptions) {
    super("model_response_invalid", message, options);
    this.name = "ModelResponseError";
  }
}

/**
 * A remote A2A agent could not be reached or answered with an HTTP error (connection refused,
 * 5xx, 429, a timeout). The step that called it retries with backoff; this error fails the
 * run once its retries are spent.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "a2a_unavailable")) console.log("remote agent down", e.status) }
 * ```
 */
export class A2AUnavailableError extends EndureError {
  /** The HTTP status, when there was a response. */
  readonly status: number | null;
  /** The remote agent's JSON-RPC URL. */
  readonly url: string;
  constructor(message: string, url: string, status: number | null, options?: EndureErrorOptions) {
    super("a2a_unavailable", message, options);
    this.name = "A2AUnavailableError";
    this.url = url;
    this.status = status;
  }
}

/**
 * A remote A2A agent answered with something that is not an A2A answer (not JSON, not
 * JSON-RPC, no task). Retried with backoff, as a broken gateway may recover.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "a2a_response_invalid")) checkTheUrl() }
 * ```
 */
export class A2AResponseError extends EndureError {
  /** The remote agent's JSON-RPC URL. */
  readonly url: string;
  constructor(message: string, url: string, options?: EndureErrorOptions) {
    super("a2a_response_invalid", message, options);
    this.name = "A2AResponseError";
    this.url = url;
  }
}

/**
 * A remote A2A agent refused a request with a JSON-RPC error (invalid params, a message to an
 * ended task, an unsupported method, a bad token). Not retried: sending it again gets the same
 * answer.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "a2a_request_refused")) console.log(e.rpcCode, e.message) }
 * ```
 */
export class A2ARequestRefusedError extends EndureError {
  /** The JSON-RPC error code (such as -32602), or the HTTP status of a 401/403. */
  readonly rpcCode: number;
  /** The remote agent's JSON-RPC URL. */
  readonly url: string;
  constructor(message: string, url: string, rpcCode: number, options?: EndureErrorOptions) {
    super("a2a_request_refused", message, options);
    this.name = "A2ARequestRefusedError";
    this.url = url;
    this.rpcCode = rpcCode;
  }
}

/**
 * The remote A2A agent has no task with this id (JSON-RPC `-32001`). Not retried.
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "a2a_task_not_found")) console.log(e.taskId) }
 * ```
 */
export class A2ATaskNotFoundError extends EndureError {
  /** The task id the remote agent does not know. */
  readonly taskId: string;
  /** The remote agent's JSON-RPC URL. */
  readonly url: string;
  constructor(message: string, url: string, taskId: string, options?: EndureErrorOptions) {
    super("a2a_task_not_found", message, options);
    this.name = "A2ATaskNotFoundError";
    this.url = url;
    this.taskId = taskId;
  }
}

/**
 * A remote A2A task ended without an answer: `failed`, `canceled` or `rejected`, or it did
 * not end within the wait's `timeout` (state `timed-out`, the remote task left as it is).
 *
 * @example
 * ```ts
 * catch (e) { if (isEndureError(e, "a2a_task_failed")) console.log(e.taskId, e.state, e.message) }
 * ```
 */
export class A2ATaskFailedError extends EndureError {
  /** The remote task's id. */
  readonly taskId: string;
  /** The remote task's last state: `failed`, `canceled`, `rejected`, `auth-required`, or
   * `timed-out` when the caller stopped waiting. */
  readonly state: string;
  /** The remote agent's JSON-RPC URL. */
  readonly url: string;
  constructor(
    message: string,
    url: string,
    taskId: string,
    state: string,
    options?: EndureErrorOptions,
  ) {
    super("a2a_task_failed", message, options);
    this.name = "A2ATaskFailedError";
    this.url = url;
    this.taskId = taskId;
    this.state = state;
  }
}
