// Tools of an MCP server as endure tools: the server's tool list is read by a step (so a run
// sees the same tools after a restart), and each call is a step of the agent like any tool.
import { NonRetriableError } from "../core/errors.js";
import type { WorkflowContext } from "../core/types.js";
import { MCP_TOOLS_MAX } from "../ai/limits.js";
import type { Tool, ToolApproval, Tools } from "../ai/tool.js";
import type { McpConnection } from "./connection.js";

/** A tool as an MCP server lists it. */
export interface McpToolInfo {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/** Options of {@link mcpTools}. */
export interface McpToolsOptions {
  /** Only these tools of the server (by their MCP names). Default: all. */
  include?: readonly string[];
  /** Put before each tool's name, as the model sees it: `files_` gives `files_read`. */
  prefix?: string;
  /** Retries of each call's step (default 3, as any step). */
  retries?: number;
  /** Longest a call may take. */
  timeout?: string | number;
  /** Calls that wait for a person's decision, as for any tool. */
  approval?: ToolApproval<Record<string, unknown>>;
}

/** The `_meta` key under which a call's idempotency key travels to the server. */
export const IDEMPOTENCY_META_KEY = "endure/idempotencyKey";

/**
 * The tools of an MCP server, for an agent's `tools` (`tools: (ctx) => mcpTools(ctx, conn)`).
 * The list is a step (`mcp tools <name>`), journaled, so a replay offers the same tools
 * without asking the server. Each call's idempotency key is sent in `_meta` under
 * `endure/idempotencyKey`; a result marked `isError` fails the call without retrying, and the
 * model reads the server's message.
 *
 * @example
 * ```ts
 * const github = mcpStdio({ name: "github", command: "github-mcp-server", args: ["stdio"] });
 * const triage = agent("triage", { model, tools: async (ctx) => ({ ...(await mcpTools(ctx, github)), notify }) });
 * ```
 */
export async function mcpTools(
  ctx: WorkflowContext,
  connection: McpConnection,
  options: McpToolsOptions = {},
): Promise<Tools> {
  const listed = await ctx.step(`mcp tools ${connection.name}`, async ({ signal }) => {
    const client = await connection.client();
    const tools: McpToolInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { signal });
      for (const t of page.tools) {
        tools.push({
          name: t.name,
          description: t.description ?? t.title ?? t.name,
          inputSchema: t.inputSchema,
        });
      }
      cursor = page.nextCursor;
      if (tools.length > MCP_TOOLS_MAX) {
        throw new NonRetriableError(
          `MCP server '${connection.name}' lists more than ${MCP_TOOLS_MAX} tools; pick some with include`,
        );
      }
    } while (cursor !== undefined);
    return tools;
  });
  const out: Record<string, Tool<Record<string, unknown>, unknown>> = {};
  for (const info of listed) {
    if (options.include !== undefined && !options.include.includes(info.name)) continue;
    const name = `${options.prefix ?? ""}${info.name}`.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
    out[name] = toolOf(connection, info, options);
  }
  return out;
}

function toolOf(
  connection: McpConnection,
  info: McpToolInfo,
  options: McpToolsOptions,
): Tool<Record<string, unknown>, unknown> {
  return {
    kind: "endure.tool",
    description: info.description,
    inputSchema: { ...info.inputSchema, type: "object" },
    // The server validates against its own schema; a refusal comes back as an error result.
    check: (value) =>
      Promise.resolve(
        typeof value === "object" && value !== null && !Array.isArray(value)
          ? { ok: true as const, value: value as Record<string, unknown> }
          : { ok: false as const, issues: "the arguments must be a JSON object" },
      ),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.approval === undefined ? {} : { approval: options.approval }),
    run: async (input, { idempotencyKey, signal }) => {
      const client = await connection.client();
      const result = await client.callTool(
        { name: info.name, arguments: input, _meta: { [IDEMPOTENCY_META_KEY]: idempotencyKey } },
        undefined,
        { signal },
      );
      const text = textOf(result.content);
      if (result.isError === true) {
        throw new NonRetriableError(
          `MCP server '${connection.name}' tool '${info.name}' answered with an error: ${text}`,
        );
      }
      return result.structuredContent ?? text;
    },
  };
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return "";
  return content
    .map((c: { type?: string; text?: string }) =>
      c.type === "text" ? (c.text ?? "") : `[${c.type ?? "content"}]`,
    )
    .join("\n");
}
