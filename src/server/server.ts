// createServer: the HTTP API of an engine, as a fetch handler and as a Node server that
// refuses to listen beyond loopback without tokens.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { InvalidArgumentError } from "../core/errors.js";
import { allRoutes, createApp } from "./app.js";
import { LiveConnections } from "./live.js";
import { resolveOptions, type ServerOptions } from "./options.js";

/** Where {@link EndureServer.listen} listens. */
export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. Any other address needs tokens. */
  readonly host?: string;
}

/** An HTTP API server over an engine. Create it with {@link createServer}. */
export interface EndureServer {
  /** Answers one request: mount it in any fetch-based runtime or framework. */
  fetch(request: Request): Promise<Response>;
  /** Listens on a port; resolves with the base URL, such as `http://127.0.0.1:4100`. */
  listen(options?: ListenOptions): Promise<{ url: string; port: number; host: string }>;
  /** Stops listening and ends live connections. The engine stays open: close it after. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** True when `host` is a loopback address (only this machine can connect). */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith("127.");
}

/**
 * The endure HTTP API (`/v1/...`) over `engine`, with bearer-token auth, signed webhooks,
 * live updates as Server-Sent Events, and an OpenAPI document at `/v1/openapi.json`.
 *
 * @example
 * ```ts
 * const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows: [research] });
 * const server = createServer({ engine, tokens: readTokensFile("./tokens.json") });
 * const { url } = await server.listen({ port: 4100 });
 * // ... later
 * await server.close();
 * await engine.close();
 * ```
 */
export function createServer(options: ServerOptions): EndureServer {
  const resolved = resolveOptions(options);
  const live = new LiveConnections(resolved.live);
  const closers: (() => void)[] = [];
  const app = createApp({ engine: resolved.engine, options: resolved, live }, allRoutes(), closers);
  let server: Server | null = null;
  return {
    fetch: async (request) => app.fetch(request),
    listen: async ({ port = 0, host = "127.0.0.1" } = {}) => {
      if (server !== null) throw new InvalidArgumentError("this server is listening already");
      if (resolved.tokens.length === 0 && !isLoopback(host)) {
        throw new InvalidArgumentError(
          `refusing to listen on ${host} without tokens: anyone who can reach it could act on every run. ` +
            `Give tokens (a tokens file: [{ "name": "you@example.com", "token": "<random, 16+ characters>", "role": "admin" }], ` +
            `createServer({ tokens }) or endure server --tokens <file>), or listen on 127.0.0.1`,
        );
      }
      return await new Promise((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port, hostname: host }) as Server;
        server = s;
        s.once("error", reject);
        s.once("listening", () => {
          const address = s.address() as AddressInfo;
          const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({
            url: `http://${shown}:${address.port}`,
            port: address.port,
            host: address.address,
          });
        });
      });
    },
    close: async () => {
      for (const stop of closers) stop();
      live.closeAll();
      const s = server;
      server = null;
      if (s === null) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
