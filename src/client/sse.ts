// Reading Server-Sent Events with fetch, and following a stream across reconnects: each
// reconnect sends the last event id received, so nothing is missed and nothing repeated.
import { ApiError } from "./errors.js";
import {
  EVENT_TEXT_BYTES_MAX,
  RECONNECT_DELAY_MS_INITIAL,
  RECONNECT_DELAY_MS_MAX,
  RECONNECTS_MAX,
} from "./limits.js";

/** One event as received. */
export interface ServerEvent {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}

/** Parses the events of one response body. */
export async function* parseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let id: string | null = null;
  let event = "message";
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      if (buffer.length > EVENT_TEXT_BYTES_MAX)
        throw new Error(
          `an event is longer than ${EVENT_TEXT_BYTES_MAX} characters; stopped reading`,
        );
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) yield { id, event, data: data.join("\n") };
          event = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = text;
        else if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** How to open one connection, given the last event id received (null at first). */
export type Connect = (lastEventId: string | null, signal: AbortSignal) => Promise<Response>;

/**
 * Events across reconnects: ends when `isEnd` says an event is the last, when `signal`
 * aborts, or throws after {@link RECONNECTS_MAX} failed connections in a row. An error
 * answer (4xx) is thrown at once: reconnecting would not change it.
 */
export async function* followEvents(
  connect: Connect,
  isEnd: (event: ServerEvent) => boolean,
  signal?: AbortSignal,
): AsyncGenerator<ServerEvent> {
  let lastEventId: string | null = null;
  let failures = 0;
  let delayMs = RECONNECT_DELAY_MS_INITIAL;
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    while (!abort.signal.aborted) {
      let lastError: unknown = null;
      try {
        const response = await connect(lastEventId, abort.signal);
        if (!response.ok && response.status < 500) throw await errorOf(response);
        if (response.ok && response.body !== null) {
          for await (const event of parseEvents(response.body)) {
            failures = 0;
            delayMs = RECONNECT_DELAY_MS_INITIAL;
            if (event.id !== null) lastEventId = event.id;
            if (isEnd(event)) return;
            yield event;
          }
        } else lastError = await errorOf(response);
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status < 500) throw e;
        lastError = e;
      }
      failures++;
      if (failures > RECONNECTS_MAX) {
        throw new Error(
          `the live stream failed ${RECONNECTS_MAX} times in a row: ${String((lastError as Error | null)?.message ?? "closed")}`,
          { cause: lastError },
        );
      }
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, RECONNECT_DELAY_MS_MAX);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    abort.abort();
  }
}

/** The {@link ApiError} of an error response. */
export async function errorOf(response: Response): Promise<ApiError> {
  const retryAfter = response.headers.get("retry-after");
  const seconds = retryAfter === null ? undefined : Number(retryAfter);
  let body: { error?: { code: string; message: string; field?: string; docs?: string } } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not an endure answer (a proxy's page): described by its status below.
  }
  return new ApiError(
    response.status,
    body.error ?? { code: "http_error", message: `the server answered ${response.status}` },
    seconds,
  );
}
