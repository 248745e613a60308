// HTTP for model adapters: one POST with a timeout that aborts the request cleanly, provider
// errors sorted into retried (429 with Retry-After, 5xx, network) and refused (other 4xx).
import { isEndureError, NonRetriableError, RetryAfterError } from "../core/errors.js";
import { ERROR_TEXT_CHARS_MAX, MODEL_RETRY_AFTER_MS_MAX } from "./limits.js";
import { ModelTimeoutError, ModelUnavailableError } from "./errors.js";
import type { ModelReply, ModelRequest } from "./messages.js";
import type { Model, ModelCall, ModelRetryPolicy, PriceTable } from "./model.js";

/** The fetch function adapters use: the global one unless a test or proxy passes its own. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** One model request. */
export interface ModelHttpRequest {
  /** Names the provider in errors. */
  readonly provider: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly timeoutMs: number;
  /** The call's signal: cancellation and lost runs abort the request. */
  readonly signal: AbortSignal;
  readonly fetch: Fetch;
}

/** What an HTTP model adapter gives {@link httpModel}: where and how to ask, how to read. */
export interface HttpModelSpec {
  readonly provider: string;
  readonly model: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly fetch: Fetch;
  /** Stream replies when the call has a text listener. */
  readonly stream: boolean;
  readonly prices?: PriceTable | undefined;
  readonly retry?: ModelRetryPolicy | undefined;
  body(request: ModelRequest, stream: boolean): unknown;
  readStream(response: Response, call: ModelCall, request: ModelRequest): Promise<ModelReply>;
  readJson(response: Response, request: ModelRequest): Promise<ModelReply>;
}

/** A {@link Model} that POSTs each call to `spec.url` and reads a streamed or whole reply. */
export function httpModel(spec: HttpModelSpec): Model {
  return {
    provider: spec.provider,
    model: spec.model,
    ...(spec.prices === undefined ? {} : { prices: spec.prices }),
    ...(spec.retry === undefined ? {} : { retry: spec.retry }),
    async generate(request: ModelRequest, call: ModelCall): Promise<ModelReply> {
      const stream = spec.stream && call.onText !== undefined;
      const { provider, url, headers, timeoutMs } = spec;
      const body = spec.body(request, stream);
      return postModel(
        { provider, url, headers, body, timeoutMs, signal: call.signal, fetch: spec.fetch },
        (response) =>
          stream ? spec.readStream(response, call, request) : spec.readJson(response, request),
      );
    },
  };
}

/**
 * Sends `request` and hands the successful response to `read`, all under the timeout: a
 * request (or a body) that runs past it is aborted and fails with `ModelTimeoutError`.
 */
export async function postModel<T>(
  request: ModelHttpRequest,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new ModelTimeoutError(
        `${request.provider} request to ${request.url} ran past its timeout of ${request.timeoutMs} ms and was aborted`,
      ),
    );
  }, request.timeoutMs);
  const relay = (): void => controller.abort(request.signal.reason);
  if (request.signal.aborted) relay();
  else request.signal.addEventListener("abort", relay, { once: true });
  try {
    let response: Response;
    try {
      response = await request.fetch(request.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...request.headers },
        body: JSON.stringify(request.body),
        signal: controller.signal,
      });
    } catch (e) {
      throw abortReason(controller) ?? unreachable(request, e);
    }
    if (!response.ok) throw await statusError(request, response);
    try {
      return await read(response);
    } catch (e) {
      const reason = abortReason(controller);
      if (reason !== undefined) throw reason;
      if (isEndureError(e)) throw e;
      throw new ModelUnavailableError(
        `the connection to ${request.provider} at ${request.url} broke while reading the response: ${(e as Error).message}`,
        response.status,
        { cause: e },
      );
    }
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", relay);
    // Whatever happened, release the connection: an unread body would hold the socket.
    if (!controller.signal.aborted) controller.abort();
  }
}

function abortReason(controller: AbortController): unknown {
  return controller.signal.aborted ? (controller.signal.reason as unknown) : undefined;
}

function unreachable(request: ModelHttpRequest, e: unknown): ModelUnavailableError {
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  const detail = cause ?? (e as Error).message;
  return new ModelUnavailableError(
    `could not reach ${request.provider} at ${request.url}: ${detail}`,
    null,
    { cause: e },
  );
}

/** Milliseconds a response asks to wait: `retry-after-ms`, or `retry-after` in seconds or as a date. */
export function retryAfterMs(headers: Headers, nowMs: number): number | null {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  let delay = Number.isFinite(ms) && ms >= 0 ? ms : null;
  const value = headers.get("retry-after");
  if (delay === null && value !== null) {
    const seconds = Number(value);
    if (value.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) delay = seconds * 1000;
    else {
      const at = Date.parse(value);
      if (Number.isFinite(at)) delay = Math.max(0, at - nowMs);
    }
  }
  return delay === null ? null : Math.min(Math.round(delay), MODEL_RETRY_AFTER_MS_MAX);
}

async function statusError(request: ModelHttpRequest, response: Response): Promise<Error> {
  const status = response.status;
  const detail = await errorDetail(response);
  const what = `${request.provider} answered HTTP ${status} to ${request.url}`;
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  if (!retryable) {
    const error = new NonRetriableError(
      `${what}: ${detail}. The request was refused, so it is not retried; check the model name, the API key and the parameters`,
    );
    return Object.assign(error, { status });
  }
  const delay = retryAfterMs(response.headers, Date.now());
  if (delay !== null) {
    return new RetryAfterError(delay, `${what} (${detail}); retrying after ${delay} ms as asked`);
  }
  return new ModelUnavailableError(`${what}: ${detail}`, status);
}

async function errorDetail(response: Response): Promise<string> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    return response.statusText || "no details";
  }
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message =
      typeof body.error === "string"
        ? body.error
        : typeof body.error?.message === "string"
          ? body.error.message
          : typeof body.message === "string"
            ? body.message
            : null;
    if (message !== null) text = message;
  } catch {
    // Not JSON: the text itself is the detail.
  }
  text = text.trim() || response.statusText || "no details";
  return text.length > ERROR_TEXT_CHARS_MAX ? `${text.slice(0, ERROR_TEXT_CHARS_MAX)}…` : text;
}
