// endure as an MCP server: another agent can start runs, read their status, send events and
// decide approvals, so that it can drive long-running work it does not host itself.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { ensureError, InvalidArgumentError } from "../core/errors.js";
import type { Engine } from "../engine/engine.js";

/** Options of {@link createMcpServer}. */
export interface McpServerOptions {
  /** How the server introduces itself. Default `endure`. */
  name?: string;
  /** Workflows `start_run` may start (by name). Default: every workflow the engine has. */
  workflows?: readonly string[];
  /**
   * Offer `approve` and `pending_approvals` (default true). The caller names who decides
   * (`by`), as with `engine.approve`: expose it only to clients you trust to say who they act for.
   */
  approvals?: boolean;
}

type Handler = (args: Record<string, unknown>) => Promise<unknown>;

interface ToolDef {
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  readonly handler: Handler;
}

const str = (description: string) => ({ type: "string", description });

function text(args: Record<string, unknown>, key: string, required = true): string | undefined {
  const v = args[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || v === "")
    throw new InvalidArgumentError(`'${key}' must be a non-empty string`);
  return v;
}

function toolsOf(engine: Engine, options: McpServerOptions): Record<string, ToolDef> {
  const allowed = options.workflows === undefined ? null : new Set(options.workflows);
  const tools: Record<string, ToolDef> = {
    start_run: {
      description:
        "Start a run of a workflow with an input. Idempotent on id: the same id returns the same run.",
      inputSchema: {
        type: "object",
        properties: {
          workflow: str("The workflow's name"),
          input: { description: "The run's input (any JSON)" },
          id: str("The run's id, an idempotency key (optional)"),
        },
        required: ["workflow"],
      },
      handler: async (args) => {
        const workflow = text(args, "workflow") as string;
        if (allowed !== null && !allowed.has(workflow))
          throw new InvalidArgumentError(`workflow '${workflow}' is not offered by this server`);
        const id = text(args, "id", false);
        const run = await engine.start(
          workflow,
          args["input"] ?? null,
          id === undefined ? {} : { id },
        );
        const info = await run.info();
        return { runId: run.id, created: run.created, status: info.status };
      },
    },
    run_status: {
      description: "Where a run is and why: its status, output or error, usage, and one sentence.",
      inputSchema: {
        type: "object",
        properties: { runId: str("The run's id") },
        required: ["runId"],
      },
      handler: async (args) => {
        const runId = text(args, "runId") as string;
        const info = await engine.handle(runId).info();
        const explained = await engine.explain(runId);
        return {
          runId,
          workflow: info.workflow,
          status: info.status,
          explanation: explained.sentence,
          ...(info.output === undefined ? {} : { output: info.output }),
          ...(info.error === undefined ? {} : { error: info.error.message }),
          usage: info.usage,
        };
      },
    },
    send_event: {
      description:
        "Send an event: it wakes runs waiting for it and starts workflows triggered by it. Idempotent on id.",
      inputSchema: {
        type: "object",
        properties: {
          name: str("The event's name, such as lead.created"),
          data: { description: "The event's data (any JSON)" },
          id: str("The event's id, an idempotency key (optional)"),
        },
        required: ["name"],
      },
      handler: async (args) => {
        const id = text(args, "id", false);
        return engine.sendEvent({
          name: text(args, "name") as string,
          ...(args["data"] === undefined ? {} : { data: args["data"] }),
          ...(id === undefined ? {} : { id }),
        });
      },
    },
  };
  if (options.approvals === false) return tools;
  tools["pending_approvals"] = {
    description: "Open approvals, oldest first, with what is being approved.",
    inputSchema: { type: "object", properties: { runId: str("Only this run's (optional)") } },
    handler: async (args) => {
      const runId = text(args, "runId", false);
      return { approvals: await engine.approvals(runId === undefined ? {} : { runId }) };
    },
  };
  tools["approve"] = {
    description: "Approve or reject a run's open approval, as the named person.",
    inputSchema: {
      type: "object",
      properties: {
        runId: str("The run's id"),
        name: str("The approval's name, as pending_approvals lists it"),
        approved: { type: "boolean", description: "true to approve, false to reject" },
        by: str("Who decides"),
        comment: str("Why (optional)"),
        role: str("The role the decider holds, when the approval asks for one (optional)"),
      },
      required: ["runId", "name", "approved", "by"],
    },
    handler: async (args) => {
      if (typeof args["approved"] !== "boolean")
        throw new InvalidArgumentError("'approved' must be true or false");
      const comment = text(args, "comment", false);
      const role = text(args, "role", false);
      const decision = {
        by: text(args, "by") as string,
        ...(comment === undefined ? {} : { comment }),
        ...(role === undefined ? {} : { role }),
      };
      const runId = text(args, "runId") as string;
      const name = text(args, "name") as string;
      const outcome = args["approved"]
        ? await engine.approve(runId, name, decision)
        : await engine.reject(runId, name, decision);
      return { outcome };
    },
  };
  return tools;
}

function result(value: unknown): CallToolResult {
  const structured =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>) : { value };
  return {
    content: [{ type: "text", text: JSON.stringify(value) }],
    structuredContent: structured,
  };
}

/**
 * An MCP server (from the official SDK) whose tools drive `engine`: `start_run`,
 * `run_status`, `send_event`, and, unless turned off, `pending_approvals` and `approve`.
 * Errors come back as tool results marked `isError`, with endure's message and code.
 *
 * @example
 * ```ts
 * const server = createMcpServer(engine, { workflows: ["research"] });
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createMcpServer(engine: Engine, options: McpServerOptions = {}): Server {
  const tools = toolsOf(engine, options);
  const server = new Server(
    { name: options.name ?? "endure", version: "1" },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.entries(tools).map(([name, t]) => ({
      name,
      description: t.description,
      inputSchema: t.inputSchema as { type: "object" },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = tools[request.params.name];
    if (tool === undefined) {
      return {
        isError: true,
        content: [{ type: "text", text: `no tool named '${request.params.name}'` }],
      };
    }
    try {
      return result(await tool.handler(request.params.arguments ?? {}));
    } catch (e) {
      const error = ensureError(e);
      const code = (error as { code?: unknown }).code;
      return {
        isError: true,
        content: [
          { type: "text", text: `${typeof code === "string" ? `${code}: ` : ""}${error.message}` },
        ],
      };
    }
  });
  return server;
}

/**
 * Serves `engine` over MCP on this process's stdin and stdout, for clients that start it as a
 * command. Resolves once connected; close the returned server to stop.
 *
 * @example
 * ```ts
 * // endure-mcp.ts, started by an MCP client as `node endure-mcp.js`
 * const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows: [research] });
 * await serveMcpStdio(engine);
 * ```
 */
export async function serveMcpStdio(
  engine: Engine,
  options: McpServerOptions = {},
): Promise<Server> {
  const server = createMcpServer(engine, options);
  await server.connect(new StdioServerTransport());
  return server;
}
