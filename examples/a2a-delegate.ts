// npx tsx examples/a2a-delegate.ts: an endure agent delegates to another endure agent over
// the Agent2Agent (A2A) protocol with a2aAgent(). The remote server serves a research agent
// and a refunds agent that asks for approval; the caller's desk agent offers the research
// agent to its model as a tool, and a support workflow sends the refunds agent a message
// whose approval surfaces in the calling run. Each message is sent once; the caller waits on
// durable timers.
import { mkdirSync } from "node:fs";
import { createEngine, workflow } from "endure";
import { a2aAgent, agent, scriptedModel, tool } from "endure/ai";
import { createServer } from "endure/server";
import { sqliteStore } from "endure/sqlite";
import { z } from "zod";

const TOKEN = "a2a-delegate-example-token-0123456789";
mkdirSync(".endure", { recursive: true });

// The remote side: two agents, served over A2A at /a2a/<name>.
const researcher = agent("researcher", {
  description: "Finds leads on a topic",
  model: scriptedModel(["Three leads: Acme Vectors, Northwind Search, Globex Embeddings."]),
});
const refunds = agent("refunds", {
  description: "Refunds orders, with a person's approval",
  model: scriptedModel([
    { toolCalls: [{ name: "refund", input: { order: "A-17", usd: 40 } }] },
    "Refunded $40 for order A-17.",
  ]),
  tools: {
    refund: tool({
      description: "Refund an order",
      input: z.object({ order: z.string(), usd: z.number() }),
      approval: true,
      run: ({ order, usd }) => ({ order, usd }),
    }),
  },
});
const remoteEngine = await createEngine({
  store: sqliteStore(".endure/a2a-remote.db"),
  workflows: [researcher, refunds],
});
const server = createServer({
  engine: remoteEngine,
  tokens: [{ name: "desk@example.com", token: TOKEN, role: "operator" }],
});
const { url } = await server.listen();

// The calling side: a remote agent is a tool of an agent, and a helper of any workflow.
const poll = { token: TOKEN, pollEvery: "50ms", pollMax: "1s", timeout: "1h" } as const;
const research = a2aAgent({ url: `${url}/a2a/researcher`, ...poll });
const refundDesk = a2aAgent({ url: `${url}/a2a/refunds`, ...poll });

const desk = agent("desk", {
  model: scriptedModel([
    { toolCalls: [{ name: "research", input: { message: "Find vector-database leads" } }] },
    (request) => `Found for you: ${request.messages.at(-1)?.content ?? ""}`,
  ]),
  tools: { research: research.tool() },
});
const support = workflow("support", async (ctx, input: { order: string }) => {
  const reply = await refundDesk.send(ctx, "refund", `Refund order ${input.order}, $40`);
  return { text: reply.text, taskId: reply.taskId };
});

const engine = await createEngine({
  store: sqliteStore(".endure/a2a-caller.db"),
  workflows: [desk, support],
});

const answer = await (await engine.start(desk, { prompt: "Any leads?" })).result();
console.log(`desk: ${answer.text}`);

const run = await engine.start(support, { order: "A-17" });
let pending = await engine.approvals({ runId: run.id });
while (pending.length === 0) {
  await new Promise((r) => setTimeout(r, 20));
  pending = await engine.approvals({ runId: run.id });
}
console.log(`asked in the calling run: ${pending[0]?.title ?? ""}`);
await engine.approve(run.id, pending[0]?.name ?? "", { by: "lee@example.com", comment: "lost" });
const { text, taskId } = await run.result();
console.log(`support: ${text}`);
const decided = (await remoteEngine.journal(taskId)).find((e) => e.type === "wait_completed");
const { result } = (decided?.data ?? {}) as { result?: { comment?: string } };
console.log(
  `remote task ${(await remoteEngine.getRun(taskId))?.status}: comment ${result?.comment}`,
);
await engine.close();
await server.close();
await remoteEngine.close();
