// Connections to MCP servers: a client made on first use and made again after the server
// went away, so that a tool step retried after a crash or a broken pipe finds a live server.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { InvalidArgumentError } from "../core/errors.js";

/** A named way to reach one MCP server. Close it when the engine closes. */
export interface McpConnection {
  /** Names the server in step names (`mcp tools <name>`) and errors. */
  readonly name: string;
  /** A connected client, connecting (again) if needed. */
  client(): Promise<Client>;
  close(): Promise<void>;
}

/** Options of {@link mcpStdio}. */
export interface McpStdioOptions {
  /** Names the server in step names and errors: letters, digits, `_`, `-`, `.`. */
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

const NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * An MCP server started as a child process and spoken to over stdio: started on first use,
 * restarted on the next use after it exited.
 *
 * @example
 * ```ts
 * const files = mcpStdio({ name: "files", command: "npx", args: ["@modelcontextprotocol/server-filesystem", "."] });
 * agent("librarian", { model, tools: (ctx) => mcpTools(ctx, files) });
 * ```
 */
export function mcpStdio(options: McpStdioOptions): McpConnection {
  return mcpConnection(options.name, () => {
    return new StdioClientTransport({
      command: options.command,
      ...(options.args === undefined ? {} : { args: options.args }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stderr: "pipe",
    });
  });
}

/**
 * A connection over any MCP transport (streamable HTTP, SSE, in-memory): `transport()` makes
 * a fresh one each time the client (re)connects.
 *
 * @example
 * ```ts
 * const remote = mcpConnection("search", () => new StreamableHTTPClientTransport(new URL(url)));
 * ```
 */
export function mcpConnection(name: string, transport: () => Transport): McpConnection {
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      `MCP connection name '${name}' must be 1 to 64 letters, digits, '_', '-' or '.'`,
    );
  }
  let current: Promise<Client> | null = null;
  const connect = async (): Promise<Client> => {
    const client = new Client({ name: "endure", version: "1" });
    const t = transport();
    await client.connect(t);
    // The server went away: the next use connects again.
    client.onclose = () => {
      if (current !== null) current = null;
    };
    return client;
  };
  return {
    name,
    client() {
      current ??= connect().catch((e: unknown) => {
        current = null;
        throw e;
      });
      return current;
    },
    async close() {
      const pending = current;
      current = null;
      if (pending !== null) await (await pending.catch(() => null))?.close();
    },
  };
}
