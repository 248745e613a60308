// The options of createServer, checked once, with every default filled in.
import { InvalidArgumentError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";
import type { Token } from "./auth.js";
import {
  BODY_BYTES_MAX_DEFAULT,
  SSE_BUFFER_BYTES_MAX_DEFAULT,
  SSE_CONNECTIONS_MAX_DEFAULT,
  SSE_HEARTBEAT_MS_DEFAULT,
  SSE_POLL_MS_DEFAULT,
  SSE_STALL_MS_DEFAULT,
  WEBHOOK_TOLERANCE_MS_DEFAULT,
} from "./limits.js";

/** A sender of signed webhooks: its shared secret, and how old a signature may be. */
export interface WebhookSource {
  readonly secret: string;
  /** Milliseconds a signature's timestamp may differ from the server's clock; default 5 min. */
  readonly toleranceMs?: number;
}

/** Options of {@link createServer}. */
export interface ServerOptions {
  readonly engine: Engine;
  /** Who may call, by bearer token. None: every caller is admin, and only loopback is served. */
  readonly tokens?: readonly Token[];
  /** Origins allowed to call from a browser; off when absent. */
  readonly cors?: { readonly origins: readonly string[] | "*" };
  /** Largest request body in bytes; default 3 MiB ({@link BODY_BYTES_MAX_DEFAULT}). */
  readonly bodyBytesMax?: number;
  /** Webhook senders by source name: `POST /v1/webhooks/{source}` checks their HMAC. */
  readonly webhooks?: Readonly<Record<string, WebhookSource>>;
  /** A directory of static files served at `/` (the dashboard). */
  readonly staticDir?: string;
  /** Where the error pages are: an error's `docs` is this followed by `<code>.md`. */
  readonly docsBaseUrl?: string;
  /** Live connections (Server-Sent Events). */
  readonly live?: {
    readonly bufferBytesMax?: number;
    readonly stallMs?: number;
    readonly heartbeatMs?: number;
    readonly pollMs?: number;
    readonly connectionsMax?: number;
  };
  /** Where unexpected errors are reported; default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/** {@link ServerOptions} with defaults. */
export interface ResolvedOptions {
  readonly tokens: readonly Token[];
  readonly cors: { readonly origins: readonly string[] | "*" } | null;
  readonly bodyBytesMax: number;
  readonly webhooks: Readonly<Record<string, Required<WebhookSource>>>;
  readonly staticDir: string | null;
  readonly docsBaseUrl: string;
  readonly live: {
    readonly bufferBytesMax: number;
    readonly stallMs: number;
    readonly heartbeatMs: number;
    readonly pollMs: number;
    readonly connectionsMax: number;
  };
  readonly onError: (error: unknown) => void;
}

/** Where error pages are when no `docsBaseUrl` is given: their path in endure's repository. */
export const DOCS_BASE_URL_DEFAULT = "docs/errors/";

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`createServer ${what} must be a whole number above 0`);
  return value;
}

/** Checks the options and fills in defaults. */
export function resolveOptions(options: ServerOptions): ResolvedOptions & { engine: Engine } {
  if (typeof options !== "object" || options === null || typeof options.engine !== "object")
    throw new InvalidArgumentError("createServer needs { engine }");
  const webhooks: Record<string, Required<WebhookSource>> = {};
  for (const [source, w] of Object.entries(options.webhooks ?? {})) {
    if (typeof w.secret !== "string" || w.secret.length < 16)
      throw new InvalidArgumentError(
        `webhook source '${source}' needs a secret of at least 16 characters`,
      );
    webhooks[source] = {
      secret: w.secret,
      toleranceMs: positive(w.toleranceMs, WEBHOOK_TOLERANCE_MS_DEFAULT, "webhook toleranceMs"),
    };
  }
  const live = options.live ?? {};
  return {
    engine: options.engine,
    tokens: options.tokens ?? [],
    cors: options.cors ?? null,
    bodyBytesMax: positive(options.bodyBytesMax, BODY_BYTES_MAX_DEFAULT, "bodyBytesMax"),
    webhooks,
    staticDir: options.staticDir ?? null,
    docsBaseUrl: options.docsBaseUrl ?? DOCS_BASE_URL_DEFAULT,
    live: {
      bufferBytesMax: positive(
        live.bufferBytesMax,
        SSE_BUFFER_BYTES_MAX_DEFAULT,
        "live.bufferBytesMax",
      ),
      stallMs: positive(live.stallMs, SSE_STALL_MS_DEFAULT, "live.stallMs"),
      heartbeatMs: positive(live.heartbeatMs, SSE_HEARTBEAT_MS_DEFAULT, "live.heartbeatMs"),
      pollMs: positive(live.pollMs, SSE_POLL_MS_DEFAULT, "live.pollMs"),
      connectionsMax: positive(
        live.connectionsMax,
        SSE_CONNECTIONS_MAX_DEFAULT,
        "live.connectionsMax",
      ),
    },
    onError: options.onError ?? ((e) => console.error("[endure server]", e)),
  };
}
