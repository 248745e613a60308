// npx tsx examples/a2a.ts: an endure agent served over the Agent2Agent (A2A) protocol. The
// server serves every registered agent at /a2a/<name>; an A2A client (here the official
// @a2a-js/sdk, as any other framework's agent would) reads its Agent Card, sends a message,
// streams the task to `input-required` when the agent asks for approval, approves it with a
// reply, and reads the completed artifact. The task is the run: its journal is the truth.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { Role, TaskState, type Message, type StreamResponse } from "@a2a-js/sdk";
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { createEngine } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";
import { createServer } from "endure/server";
import { sqliteStore } from "endure/sqlite";
import { z } from "zod";

const TOKEN = "a2a-example-token-0123456789";

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
      run: async ({ order, usd }, { idempotencyKey }) => ({ order, usd, key: idempotencyKey }),
    }),
  },
});

const text = (value: string, taskId = ""): Message => ({
  messageId: randomUUID(),
  contextId: "",
  taskId,
  role: Role.ROLE_USER,
  parts: [{ content: { $case: "text", value }, metadata: undefined, filename: "", mediaType: "" }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});

const stateName = (e: StreamResponse): string | null => {
  const p = e.payload;
  const state =
    p?.$case === "task" || p?.$case === "statusUpdate" ? p.value.status?.state : undefined;
  return state === undefined ? null : (TaskState[state] ?? null);
};

mkdirSync(".endure", { recursive: true });
const engine = await createEngine({ store: sqliteStore(".endure/a2a.db"), workflows: [refunds] });
const server = createServer({
  engine,
  tokens: [{ name: "shop-agent@example.com", token: TOKEN, role: "operator" }],
});
const { url } = await server.listen();

const authed: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set("authorization", `Bearer ${TOKEN}`);
  return fetch(input, { ...init, headers });
};
const client = await new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl: authed })],
  }),
).createFromUrl(`${url}/a2a/refunds/`);
const card = await client.getAgentCard();
console.log(
  `card: ${card.name}: ${card.description}; skills ${card.skills.map((s) => s.name).join(", ")}`,
);

let taskId = "";
const send = (message: Message) =>
  client.sendMessageStream({ tenant: "", message, configuration: undefined, metadata: undefined });
for await (const event of send(text("Refund order A-17, $40"))) {
  if (event.payload?.$case === "task") taskId = event.payload.value.id;
  if (event.payload?.$case === "statusUpdate") console.log(`status: ${stateName(event)}`);
}
for await (const event of send(text("approve, the parcel was lost", taskId))) {
  if (event.payload?.$case === "statusUpdate") console.log(`status: ${stateName(event)}`);
  if (event.payload?.$case === "artifactUpdate" && event.payload.value.lastChunk) {
    const part = event.payload.value.artifact?.parts[0]?.content;
    console.log(`artifact: ${part?.$case === "text" ? part.value : JSON.stringify(part)}`);
  }
}
const decided = (await engine.journal(taskId)).find((e) => e.type === "wait_completed");
const { result } = (decided?.data ?? {}) as { result?: { by?: string; comment?: string } };
console.log(`journal: approved by ${result?.by ?? "?"}: ${result?.comment ?? ""}`);
await server.close();
await engine.close();
