// An agent using the tools of a real MCP server: examples/mcp/kb-server.mjs, a support
// knowledge base the example starts as a child process and speaks to over stdio with the
// official MCP SDK. The server's tool list is read once in a step and journaled; each tool
// call is a step of the agent whose idempotency key travels to the server in `_meta`, so the
// ticket it opens is opened once. Run it twice (npx tsx examples/mcp-agent.ts): the second
// time the run is in the journal, and the server is not even started.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createEngine } from "endure";
import { agent, scriptedModel, type ModelRequest, type ToolMessage } from "endure/ai";
import { mcpStdio, mcpTools } from "endure/mcp";
import { sqliteStore } from "endure/sqlite";

const SERVER = new URL("./mcp/kb-server.mjs", import.meta.url).pathname;

/** What the tools answered so far in this conversation, newest last. */
const toolAnswers = (r: ModelRequest) =>
  r.messages.filter((m): m is ToolMessage => m.role === "tool").map((m) => m.content);

/** The offline model: what a capable model would do with these tools, turn by turn. */
const model = scriptedModel([
  (r) => ({
    text: `I can use: ${(r.tools ?? []).map((t) => t.name).join(", ")}.`,
    toolCalls: [{ name: "kb_search_articles", input: { query: "refund annual plan" } }],
  }),
  (r) => {
    const hits = JSON.parse(toolAnswers(r).at(-1) ?? "[]") as Array<{ id: string }>;
    return { toolCalls: [{ name: "kb_read_article", input: { id: hits[0]?.id ?? "none" } }] };
  },
  {
    toolCalls: [
      {
        name: "kb_open_ticket",
        input: { team: "billing", summary: "Refund of an annual plan renewed 45 days ago" },
      },
    ],
  },
  (r) => {
    const [, article, ticket] = toolAnswers(r);
    return `${article} The renewal was 45 days ago, so: ${ticket}.`;
  },
]);

export async function main(dir = process.cwd()): Promise<void> {
  mkdirSync(join(dir, ".endure"), { recursive: true });
  const logFile = resolve(dir, ".endure/kb.log");
  const serverCalls = () =>
    existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n") : [];
  const before = serverCalls().length;
  const kb = mcpStdio({
    name: "kb",
    command: process.execPath,
    args: [SERVER],
    env: {
      KB_LOG: logFile,
      KB_TICKETS: resolve(dir, ".endure/tickets.jsonl"),
      PATH: process.env["PATH"] ?? "",
    },
  });
  const support = agent("support-desk", {
    model,
    system: "Answer from the knowledge base; open a ticket when a person must act.",
    tools: (ctx) => mcpTools(ctx, kb, { prefix: "kb_" }),
    maxTurns: 6,
  });
  const engine = await createEngine({
    store: sqliteStore(join(dir, ".endure/mcp-agent.db")),
    workflows: [support],
  });
  try {
    const run = await engine.start(
      support,
      { prompt: "A customer renewed an annual plan 45 days ago and wants a refund." },
      { id: "support-42" },
    );
    console.log(run.created ? `started run ${run.id}` : `run ${run.id} exists: reading it`);
    for await (const { part } of run.stream()) {
      if (part.type === "tool-input-available")
        console.log(`→ ${String(part["toolName"])} ${JSON.stringify(part["input"])}`);
      if (part.type === "tool-output-available") {
        const output = part["output"];
        console.log(`← ${typeof output === "string" ? output : JSON.stringify(output)}`);
      }
    }
    console.log(`answer: ${(await run.result()).text}`);
    const steps = (await engine.journal(run.id))
      .filter((e) => e.type === "step_succeeded")
      .map((e) => e.key);
    console.log(`journaled steps: ${steps.join(", ")}`);
    const seen = serverCalls().slice(before);
    console.log(`the MCP server saw: ${seen.length === 0 ? "nothing" : seen.join("; ")}`);
  } finally {
    await kb.close();
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
