// The error the client throws for an error answer: the server's code, message and field.
import { EndureError, type EndureErrorCode } from "../core/errors.js";

/**
 * An error answer of the API. Its `code` is the code of endure's typed errors, so
 * `isEndureError(e, "run_not_found")` recognizes it as it recognizes the engine's own.
 *
 * @example
 * ```ts
 * try { await client.getRun("nope") }
 * catch (e) { if (isEndureError(e, "run_not_found")) console.log("no such run") }
 * ```
 */
export class ApiError extends EndureError {
  /** The HTTP status. */
  readonly status: number;
  /** The request field at fault, when one is. */
  readonly field: string | undefined;
  /** Where the code is documented. */
  readonly docs: string | undefined;
  /** Seconds the server asked to wait before retrying (`Retry-After`), if it did. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    status: number,
    body: { code: string; message: string; field?: string; docs?: string },
    retryAfterSeconds?: number,
  ) {
    // The server's code, as the server's endure knows it (it may be newer than this client).
    super(body.code as EndureErrorCode, body.message);
    this.name = "ApiError";
    this.status = status;
    this.field = body.field;
    this.docs = body.docs;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
