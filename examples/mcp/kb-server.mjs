// A small MCP server for examples/mcp-agent.ts, spoken to over stdio: a support knowledge
// base with two read tools (search_articles, read_article) and one with a side effect
// (open_ticket, which files a ticket once per idempotency key). Every list and call is
// appended to the file named by KB_LOG, so the example can show what reached the server.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const ARTICLES = {
  "kb-12": {
    title: "Refunds for annual plans",
    body: "Annual plans are refunded pro rata within 30 days of renewal. Past 30 days, support opens a billing ticket.",
  },
  "kb-31": {
    title: "Changing the billing e-mail",
    body: "Owners change the billing e-mail under Settings, Billing.",
  },
};
const log = (line) => appendFileSync(process.env.KB_LOG ?? "kb.log", `${line}\n`);
const keyOf = (extra) => extra._meta?.["endure/idempotencyKey"] ?? "-";
const text = (value) => ({ content: [{ type: "text", text: value }] });

const server = new McpServer({ name: "kb", version: "1.0.0" });
server.registerTool(
  "search_articles",
  {
    description: "Search the support knowledge base; returns article ids and titles",
    inputSchema: { query: z.string() },
  },
  ({ query }, extra) => {
    log(`call search_articles ${keyOf(extra)}`);
    const words = query.toLowerCase().split(/\W+/).filter(Boolean);
    const hits = Object.entries(ARTICLES)
      .filter(([, a]) => words.some((w) => a.title.toLowerCase().includes(w)))
      .map(([id, a]) => ({ id, title: a.title }));
    return text(JSON.stringify(hits));
  },
);
server.registerTool(
  "read_article",
  { description: "Read one article by id", inputSchema: { id: z.string() } },
  ({ id }, extra) => {
    log(`call read_article ${keyOf(extra)}`);
    const article = ARTICLES[id];
    if (article === undefined) return { isError: true, ...text(`no article ${id}`) };
    return text(article.body);
  },
);
server.registerTool(
  "open_ticket",
  {
    description: "Open a support ticket for a team",
    inputSchema: { team: z.string(), summary: z.string() },
  },
  ({ team, summary }, extra) => {
    const key = keyOf(extra);
    log(`call open_ticket ${key}`);
    // Keyed by the call's idempotency key: a call sent again files no second ticket.
    const file = process.env.KB_TICKETS ?? "tickets.jsonl";
    const filed = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    const same = filed.map((l) => JSON.parse(l)).find((t) => t.key === key);
    if (same !== undefined) return text(`ticket ${same.id} (already open)`);
    const id = `T-${100 + filed.length}`;
    appendFileSync(file, `${JSON.stringify({ id, team, summary, key })}\n`);
    return text(`ticket ${id} opened for ${team}`);
  },
);
const transport = new StdioServerTransport();
await server.connect(transport);
// Log each tools/list request too (the SDK answers it from the tools registered above).
const handle = transport.onmessage;
transport.onmessage = (message, extra) => {
  if (message.method === "tools/list") log("list");
  handle?.(message, extra);
};
