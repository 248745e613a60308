// Sorts errors thrown by AI SDK providers into endure's retry meanings: a refused request is
// not retried, a rate limit waits its Retry-After, the rest retry with backoff.
import { NonRetriableError, RetryAfterError } from "../core/errors.js";
import { retryAfterMs } from "../ai/http.js";

interface ApiCallErrorLike {
  readonly message: string;
  readonly statusCode?: number;
  readonly isRetryable?: boolean;
  readonly responseHeaders?: Record<string, string>;
}

/** The error a model step should throw for `error`, thrown by a provider. */
export function providerError(error: unknown): unknown {
  const e = error as Partial<ApiCallErrorLike> | null;
  if (typeof e !== "object" || e === null || typeof e.isRetryable !== "boolean") return error;
  const status = e.statusCode === undefined ? "" : ` (HTTP ${e.statusCode})`;
  if (!e.isRetryable) {
    return new NonRetriableError(
      `the provider refused the request${status}: ${e.message ?? "no details"}; it is not retried`,
      { cause: error },
    );
  }
  const delay = retryAfterMs(new Headers(e.responseHeaders ?? {}), Date.now());
  if (delay !== null) {
    return new RetryAfterError(
      delay,
      `the provider asked to retry after ${delay} ms${status}: ${e.message ?? ""}`,
      {
        cause: error,
      },
    );
  }
  return error;
}
