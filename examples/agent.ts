// npm run demo:agent: a lead-scouting agent on the embedded SQLite store. Offline it runs on a
// scripted model; with OPENAI_BASE_URL / OPENAI_API_KEY (and OPENAI_MODEL) or ANTHROPIC_API_KEY
// (and ANTHROPIC_MODEL, ANTHROPIC_BASE_URL) set, it runs on that model. Every model call and
// tool call is a journaled step: interrupt it (Ctrl-C) and run it again, and it resumes without
// paying for a model call or repeating a tool whose result was recorded. The outreach tool waits
// for an approval, which this demo grants itself after showing it.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { createEngine, type StreamPart } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";
import { sqliteStore } from "endure/sqlite";
import { modelFromEnv as pickModel, type PickedModel } from "./models.js";

/** A small company directory standing in for a search API. */
const DIRECTORY = [
  { name: "Qdrant", domain: "qdrant.tech", employees: 90, topic: "vector database" },
  { name: "Weaviate", domain: "weaviate.io", employees: 150, topic: "vector database" },
  { name: "Chroma", domain: "trychroma.com", employees: 30, topic: "vector database" },
  { name: "Acme Freight", domain: "acme.test", employees: 120, topic: "logistics" },
];

function tools(crmPath: string) {
  return {
    searchCompanies: tool({
      description: "Search the company directory by topic",
      input: z.object({ topic: z.string().describe("What the companies do") }),
      run: ({ topic }) =>
        DIRECTORY.filter((c) => c.topic.includes(topic.toLowerCase())).map(
          ({ name, domain, employees }) => ({
            name,
            domain,
            employees,
          }),
        ),
    }),
    scoreLead: tool({
      description: "Score how well a company fits our product, from 0 to 1",
      input: z.object({ name: z.string(), employees: z.number() }),
      run: ({ employees }) => Math.round(Math.min(1, employees / 150) * 100) / 100,
      verify: (score) => (score >= 0 && score <= 1) || "a score must be between 0 and 1",
    }),
    saveLead: tool({
      description: "Save a lead in the CRM",
      input: z.object({ name: z.string(), domain: z.string(), score: z.number() }),
      // The CRM write is keyed by the step's idempotency key: a retry never saves twice.
      run: (lead, { idempotencyKey }) => {
        const saved = existsSync(crmPath) ? readFileSync(crmPath, "utf8") : "";
        if (!saved.includes(idempotencyKey))
          appendFileSync(crmPath, `${JSON.stringify({ ...lead, key: idempotencyKey })}\n`);
        return `saved ${lead.name}`;
      },
    }),
    sendOutreach: tool({
      description: "Send an outreach email",
      input: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
      approval: { title: ({ to }) => `Send the outreach email to ${to}?` },
      run: ({ to }, { idempotencyKey }) => `queued for ${to} (message id ${idempotencyKey})`,
    }),
  };
}

/** The offline model: the replies a capable model would give for this task, in order. */
const offline = scriptedModel(
  [
    {
      text: "I'll search the directory first.",
      toolCalls: [{ name: "searchCompanies", input: { topic: "vector database" } }],
    },
    {
      toolCalls: [
        { name: "scoreLead", input: { name: "Qdrant", employees: 90 } },
        { name: "scoreLead", input: { name: "Weaviate", employees: 150 } },
        { name: "scoreLead", input: { name: "Chroma", employees: 30 } },
      ],
    },
    {
      text: "Weaviate fits best; saving it and reaching out.",
      toolCalls: [
        { name: "saveLead", input: { name: "Weaviate", domain: "weaviate.io", score: 1 } },
        {
          name: "sendOutreach",
          input: {
            to: "founders@weaviate.io",
            subject: "Durable agents for your team",
            body: "Hi Weaviate team, ...",
          },
        },
      ],
    },
    "Best lead: Weaviate (score 1, 150 staff), saved to the CRM with outreach queued. " +
      "Runner-up: Qdrant (0.6).",
  ],
  { model: "scripted-scout" },
);

/** The model to use: a real one when the environment names one, else the offline script. */
export function modelFromEnv(env: NodeJS.ProcessEnv): PickedModel {
  return pickModel(env, offline);
}

function describePart(part: StreamPart): string | null {
  switch (part.type) {
    case "text-delta":
      return String(part["delta"]);
    case "tool-input-available":
      return `  → ${String(part["toolName"])}(${JSON.stringify(part["input"])})\n`;
    case "tool-output-available":
      return `  ← ${JSON.stringify(part["output"])}\n`;
    case "tool-output-error":
    case "tool-input-error":
      return `  ✗ ${String(part["errorText"])}\n`;
    case "tool-approval-request":
      return `  ? waiting for approval '${String(part["approvalId"])}'\n`;
    case "text-end":
      return "\n";
    default:
      return null;
  }
}

/** Runs the demo; returns the agent's result. */
export async function main(
  options: { path?: string; log?: (text: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<unknown> {
  const path = options.path ?? ".endure/agent.db";
  const write = options.log ?? ((text: string) => process.stdout.write(text));
  mkdirSync(dirname(path), { recursive: true });
  const { model, label } = modelFromEnv(options.env ?? process.env);
  const scout = agent("lead-scout", {
    model,
    system:
      "You research leads for a company selling durable execution for AI agents. Search the " +
      "directory, score the candidates, save the best one and send it a short outreach email. " +
      "End with a one-paragraph summary.",
    tools: tools(join(dirname(path), "crm.jsonl")),
    maxTurns: 10,
    budget: { tokens: 60_000 },
  });
  const engine = await createEngine({ store: sqliteStore(path), workflows: [scout] });
  try {
    const run = await engine.start(
      scout,
      { prompt: "Find vector-database leads." },
      { id: "scout-demo" },
    );
    write(
      run.created
        ? `started run ${run.id} on ${label}\n`
        : `run ${run.id} exists: resuming or reading it\n`,
    );
    // Grant approvals as they appear; in real use a person decides (engine.approve / reject).
    const approver = setInterval(() => {
      void engine.approvals({ runId: run.id }).then(async (pending) => {
        for (const a of pending) {
          write(`  approving: ${a.title}\n`);
          await engine
            .approve(run.id, a.name, { by: "demo", comment: "approved by the demo" })
            .catch(() => {});
        }
      });
    }, 50);
    for await (const { part } of run.stream()) {
      const text = describePart(part);
      if (text !== null) write(text);
    }
    clearInterval(approver);
    const result = await run.result();
    const usage = (await run.info()).usage;
    write(`\nresult: ${result.text}\n`);
    write(
      `model calls: ${usage.calls}, tokens in/out: ${usage.inputTokens}/${usage.outputTokens}\n`,
    );
    write(`journal in ${path}; delete it to start over\n`);
    return result;
  } finally {
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
