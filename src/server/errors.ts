// The one place where errors become HTTP responses: every error body has the shape
// `{ error: { code, message, field?, docs } }`, with the code of endure's typed errors.
import {
  EndureError,
  isEndureError,
  type EndureErrorCode,
  type EndureErrorOptions,
} from "../core/errors.js";
import { RETRY_AFTER_SECONDS } from "./limits.js";

/** An HTTP request endure refuses: its code, the field at fault if one is, and its status. */
export class RequestError extends EndureError {
  readonly status: number;
  readonly field: string | undefined;
  constructor(
    code: EndureErrorCode,
    status: number,
    message: string,
    field?: string,
    options?: EndureErrorOptions,
  ) {
    super(code, message, options);
    this.name = "RequestError";
    this.status = status;
    this.field = field;
  }
}

/** The request carried no token, or one the server does not know. */
export const unauthorized = (message: string): RequestError =>
  new RequestError("unauthorized", 401, message);

/** The token is known but its role may not use this route. */
export const forbidden = (message: string): RequestError =>
  new RequestError("forbidden", 403, message);

/** A request field is malformed, of the wrong type, or unknown. */
export const invalidField = (field: string | undefined, message: string): RequestError =>
  new RequestError("invalid_argument", 400, message, field);

/** HTTP status of each endure error code; codes not listed are 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid_argument: 400,
  input_invalid: 400,
  value_not_serializable: 400,
  update_rejected: 400,
  unauthorized: 401,
  signature_invalid: 401,
  forbidden: 403,
  approval_not_allowed: 403,
  run_not_found: 404,
  position_not_found: 404,
  workflow_not_found: 404,
  approval_not_found: 404,
  query_not_found: 404,
  update_not_found: 404,
  route_not_found: 404,
  run_id_conflict: 409,
  approval_decided: 409,
  run_finished: 409,
  run_active: 409,
  query_refused: 409,
  run_paused: 409,
  payload_too_large: 413,
  engine_closed: 503,
  store_unavailable: 503,
  store_timeout: 503,
  store_read_only: 503,
};

/** Codes that mean "try again later": answered with `Retry-After`. */
const RETRYABLE = new Set(["engine_closed", "store_unavailable", "store_timeout"]);

/** The body of an error response. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly field?: string;
    readonly docs: string;
  };
}

/** An error response for anything thrown by a route; unknown errors are reported as 500. */
export function errorResponse(
  thrown: unknown,
  docsBaseUrl: string,
  report: (e: unknown) => void,
): Response {
  const known = isEndureError(thrown);
  if (!known) report(thrown);
  const code = known ? thrown.code : "internal_error";
  const status = thrown instanceof RequestError ? thrown.status : (STATUS_BY_CODE[code] ?? 500);
  const message = known
    ? thrown.message
    : "the server failed to answer this request; its log has the details";
  const field = thrown instanceof RequestError ? thrown.field : undefined;
  const body: ErrorBody = {
    error: {
      code,
      message,
      ...(field !== undefined ? { field } : {}),
      docs: `${docsBaseUrl}${code}.md`,
    },
  };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (RETRYABLE.has(code)) headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  return new Response(JSON.stringify(body), { status, headers });
}
