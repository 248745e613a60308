// Shared setup of the server tests: an engine on a real SQLite file, the real server on a
// free loopback port, and clients holding each role's token.
import { createClient, type EndureClient } from "endure/client";
import { createServer, type ServerOptions, type Token } from "endure/server";
import type { Engine, EngineOptions } from "endure";
import { onCleanup, sqliteEngine } from "../helpers.js";

export const TOKENS: Token[] = [
  { name: "ada@example.com", token: "admin-token-0123456789", role: "admin" },
  { name: "otto@example.com", token: "operator-token-0123456789", role: "operator" },
  { name: "maria@example.com", token: "approver-token-0123456789", role: "approver" },
  { name: "vic@example.com", token: "viewer-token-0123456789", role: "viewer" },
];

export interface Served {
  readonly engine: Engine;
  readonly url: string;
  readonly admin: EndureClient;
  readonly operator: EndureClient;
  readonly approver: EndureClient;
  readonly viewer: EndureClient;
  /** A client with any token (or none). */
  client(token?: string): EndureClient;
}

/** An engine and a listening server over it, both closed after the test. */
export async function serve(
  engineOptions: Omit<EngineOptions, "store"> & { path?: string } = {},
  serverOptions: Omit<ServerOptions, "engine"> = {},
): Promise<Served> {
  const engine = await sqliteEngine(engineOptions);
  const server = createServer({ engine, tokens: TOKENS, onError: () => {}, ...serverOptions });
  const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
  onCleanup(() => server.close());
  const client = (token?: string): EndureClient =>
    createClient({ url, ...(token !== undefined ? { token } : {}) });
  const tokenOf = (role: Token["role"]): string => TOKENS.find((t) => t.role === role)?.token ?? "";
  return {
    engine,
    url,
    client,
    admin: client(tokenOf("admin")),
    operator: client(tokenOf("operator")),
    approver: client(tokenOf("approver")),
    viewer: client(tokenOf("viewer")),
  };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function failure(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; status?: number; field?: string; docs?: string }> {
  try {
    await promise;
  } catch (e) {
    return e as Error & { code?: string; status?: number };
  }
  throw new Error("expected a failure");
}
