// Server-Sent Events connections. Each has a bounded buffer: its producer reads the store
// only while the buffer has room, and a client that leaves it full past the stall time is
// dropped, so a slow or vanished client never makes the server's memory grow.
import { RequestError } from "./errors.js";
import { toJsonText } from "./json.js";
import type { ResolvedOptions } from "./options.js";

/** What a producer writes to one connection. */
export interface LiveSink {
  /** Sends one event; waits while the client's buffer is full. Throws once the connection ended. */
  send(event: LiveEvent): Promise<void>;
  /** Aborted when the client left, was dropped, or the server is closing. */
  readonly signal: AbortSignal;
  /** Waits `ms`, or less when the connection ends. */
  sleep(ms: number): Promise<void>;
}

/** One Server-Sent Event: `data` as one line of JSON, or `raw` text (such as `[DONE]`). */
export interface LiveEvent {
  readonly id?: string | number;
  readonly event?: string;
  readonly data?: unknown;
  readonly raw?: string;
}

const encoder = new TextEncoder();

/**
 * The sockets under requests, when the server runs on Node: a client dropped for not
 * reading must lose its socket, since the end of a response it does not read never flushes.
 */
export const socketsOfRequests = new WeakMap<Request, { destroy(): void }>();

/** Thrown by `send` once a connection ended; producers just stop. */
export class ConnectionEnded extends Error {}

/** The open live connections of one server. */
export class LiveConnections {
  private readonly open = new Set<() => void>();

  constructor(private readonly settings: ResolvedOptions["live"]) {}

  /** How many connections are open. */
  get size(): number {
    return this.open.size;
  }

  /** An SSE response fed by `produce`; the stream ends when `produce` returns. */
  respond(request: Request, produce: (sink: LiveSink) => Promise<void>): Response {
    if (this.open.size >= this.settings.connectionsMax) {
      throw new RequestError(
        "live_connections_full",
        503,
        `this server has ${this.settings.connectionsMax} live connections open, its limit (option live.connectionsMax); retry later`,
      );
    }
    const abort = new AbortController();
    const { bufferBytesMax, stallMs, heartbeatMs } = this.settings;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let room: (() => void) | null = null;
    const end = (): void => {
      if (abort.signal.aborted) return;
      abort.abort();
      this.open.delete(end);
      clearInterval(heartbeat);
      room?.();
      try {
        controller.close();
      } catch {
        // Already closed, or errored because the client was dropped.
      }
    };
    this.open.add(end);
    request.signal.addEventListener("abort", end, { once: true });
    const waitForRoom = async (): Promise<void> => {
      if ((controller.desiredSize ?? 0) > 0) return;
      let timer: NodeJS.Timeout | undefined;
      const drained = await new Promise<boolean>((resolve) => {
        room = () => resolve(true);
        timer = setTimeout(() => resolve(false), stallMs);
      });
      clearTimeout(timer);
      room = null;
      if (!drained && !abort.signal.aborted) {
        // The client read nothing for stallMs: drop it, its socket and its buffer.
        end();
        socketsOfRequests.get(request)?.destroy();
      }
    };
    const write = (text: string): void => {
      if (!abort.signal.aborted) controller.enqueue(encoder.encode(text));
    };
    const heartbeat = setInterval(() => {
      if ((controller.desiredSize ?? 0) > 0) write(": keep-alive\n\n");
    }, heartbeatMs);
    heartbeat.unref();
    const sink: LiveSink = {
      signal: abort.signal,
      send: async (event) => {
        if (abort.signal.aborted) throw new ConnectionEnded();
        write(frame(event));
        await waitForRoom();
        if (abort.signal.aborted) throw new ConnectionEnded();
      },
      sleep: (ms) =>
        new Promise((resolve) => {
          if (abort.signal.aborted) return resolve();
          // The listener goes with the timer: a producer polling for hours adds none.
          const woken = (): void => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            abort.signal.removeEventListener("abort", woken);
            resolve();
          }, ms);
          abort.signal.addEventListener("abort", woken, { once: true });
        }),
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => room?.(),
        cancel: end,
      },
      new ByteLengthQueuingStrategy({ highWaterMark: bufferBytesMax }),
    );
    queueMicrotask(() => {
      write(": connected\n\n");
      produce(sink)
        .catch((e: unknown) => {
          if (!(e instanceof ConnectionEnded) && !abort.signal.aborted)
            write(frame({ event: "error", data: e }));
        })
        .finally(end);
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every connection (the server is closing). */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}

/** The text of one event. */
function frame(event: LiveEvent): string {
  let text = "";
  if (event.id !== undefined) text += `id: ${String(event.id)}\n`;
  if (event.event !== undefined) text += `event: ${event.event}\n`;
  return `${text}data: ${event.raw ?? toJsonText(event.data)}\n\n`;
}
