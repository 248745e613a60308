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
