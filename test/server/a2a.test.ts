// A2A conformance over real HTTP: the official @a2a-js/sdk client talks to endure's A2A
// endpoint on loopback. It reads the Agent Card, sends a message, streams the task, sees
// input-required when the agent asks for approval, answers it, and reads the completed
// artifact; a resent message starts nothing new; tasks/get and tasks/cancel follow the run;
// malformed requests get JSON-RPC errors with the spec's codes.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  Role,
  TaskState,
  type Message,
  type SendMessageRequest,
  type StreamResponse,
  type Task,
} from "@a2a-js/sdk";
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { A2A_MESSAGE_EVENT, workflow } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";
import { serverLimits } from "endure/server";
import { z } from "zod";
import { eventually } from "../helpers.js";
import { serve, TOKENS } from "./support.js";

const OPERATOR = TOKENS.find((t) => t.role === "operator")?.token ?? "";
const VIEWER = TOKENS.find((t) => t.role === "viewer")?.token ?? "";

const sent: string[] = [];
const mailer = (): ReturnType<typeof agent> =>
  agent("mailer", {
    description: "Drafts and sends emails",
    model: scriptedModel([
      { toolCalls: [{ name: "sendEmail", input: { to: "ada@example.com", body: "Hello" } }] },
      "I sent the email to ada@example.com.",
    ]),
    tools: {
      sendEmail: tool({
        description: "Send an email",
        input: z.object({ to: z.string(), body: z.string() }),
        approval: true,
        run: async ({ to }) => {
          sent.push(to);
          return { sent: true };
        },
      }),
    },
  });

/** A workflow served over A2A that asks its caller for more with an a2a.message wait. */
const asker = workflow(
  "asker",
  async (ctx, input: { text: string }) => {
    const reply = await ctx.waitForEvent<{ text: string }>("more", {
      event: A2A_MESSAGE_EVENT,
      match: { "data.taskId": ctx.runId },
      timeout: "1h",
    });
    return `${input.text} + ${reply?.data.text ?? "nothing"}`;
  },
  { a2a: { description: "Joins two messages" } },
);

const hidden = workflow("hidden", async () => "not served");

function authedFetch(token: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

async function clientOf(url: string, name: string, token = OPERATOR) {
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl: authedFetch(token) })],
    }),
  );
  return factory.createFromUrl(`${url}/a2a/${name}/`);
}

const send = (
  message: Message,
  configuration?: SendMessageRequest["configuration"],
): SendMessageRequest => ({
  tenant: "",
  message,
  configuration,
  metadata: undefined,
});

const userMessage = (text: string, extra: Partial<Message> = {}): Message => ({
  messageId: randomUUID(),
  contextId: "",
  taskId: "",
  role: Role.ROLE_USER,
  parts: [
    {
      content: { $case: "text", value: text },
      metadata: undefined,
      filename: "",
      mediaType: "text/plain",
    },
  ],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
  ...extra,
});

async function collect(stream: AsyncGenerator<StreamResponse>): Promise<StreamResponse[]> {
  const events: StreamResponse[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const stateOf = (e: StreamResponse): TaskState | undefined =>
  e.payload?.$case === "statusUpdate"
    ? e.payload.value.status?.state
    : e.payload?.$case === "task"
      ? e.payload.value.status?.state
      : undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON-RPC bodies of many shapes
type Json = any;

async function rpc(
  url: string,
  body: unknown,
  token = OPERATOR,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe("A2A server", () => {
  it("serves the agent's card, streams its task to input-required, takes the approval and completes", async () => {
    sent.length = 0;
    const s = await serve({ workflows: [mailer(), asker, hidden] });
    const client = await clientOf(s.url, "mailer");
    const card = await client.getAgentCard();
    expect(card.name).toBe("mailer");
    expect(card.description).toBe("Drafts and sends emails");
    expect(card.skills.map((k) => k.name)).toEqual(["mailer", "sendEmail"]);
    expect(card.capabilities?.streaming).toBe(true);

    const first = userMessage("Email Ada hello");
    const events = await collect(client.sendMessageStream(send(first)));
    expect(events[0]?.payload?.$case).toBe("task");
    const task = (events[0]?.payload as { value: Task }).value;
    const last = events.at(-1);
    expect(stateOf(last as StreamResponse)).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const question = (last?.payload as { value: { status: { message: Message } } }).value.status
      .message;
    expect(question.metadata?.["approval"]).toMatch(/^sendEmail/);
    expect(sent).toEqual([]);

    // A resent message starts nothing new: the same task, still waiting.
    const again = await client.sendMessage(send(first));
    expect((again as Task).id).toBe(task.id);
    expect((await s.engine.listRuns({ workflow: "mailer" })).runs).toHaveLength(1);

    const answer = userMessage("approve, go ahead", { taskId: task.id, contextId: task.contextId });
    const rest = await collect(client.sendMessageStream(send(answer)));
    const final = rest.at(-1) as StreamResponse;
    expect(stateOf(final)).toBe(TaskState.TASK_STATE_COMPLETED);
    const artifacts = rest.filter((e) => e.payload?.$case === "artifactUpdate");
    const lastArtifact = artifacts.at(-1)?.payload as {
      value: { artifact: { parts: { content: { value: string } }[] } };
    };
    expect(lastArtifact.value.artifact.parts[0]?.content.value).toBe(
      "I sent the email to ada@example.com.",
    );
    expect(sent).toEqual(["ada@example.com"]);

    // Answering again (a resend of the approval) decides nothing twice.
    await client.sendMessage(send(answer)).catch(() => undefined);
    const got = await client.getTask({ id: task.id, tenant: "" });
    expect(got.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(got.artifacts[0]?.parts[0]?.content).toEqual({
      $case: "text",
      value: "I sent the email to ada@example.com.",
    });
    const ended = (await s.engine.journal(task.id)).filter((e) => e.type === "wait_completed");
    expect(ended).toHaveLength(1);
    expect(sent).toEqual(["ada@example.com"]);
    // The decider is the token's name.
    const journalText = JSON.stringify(await s.engine.journal(task.id));
    expect(journalText).toContain("otto@example.com");
  });

  it("continues a task with a message delivered once, and cancels a waiting task", async () => {
    const s = await serve({ workflows: [mailer(), asker] });
    const client = await clientOf(s.url, "asker");
    const task = (await client.sendMessage(send(userMessage("first")))) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const more = userMessage("second", { taskId: task.id });
    const done = (await client.sendMessage(send(more))) as Task;
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(done.artifacts[0]?.parts[0]?.content).toEqual({
      $case: "text",
      value: "first + second",
    });
    // The same message again: refused as the task ended, and nothing was delivered twice.
    await expect(client.sendMessage(send(more))).rejects.toThrow(/ended/);

    const waiting = (await client.sendMessage(send(userMessage("to cancel")))) as Task;
    expect(waiting.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const cancelled = await client.cancelTask({ id: waiting.id, tenant: "", metadata: undefined });
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    await expect(
      client.cancelTask({ id: waiting.id, tenant: "", metadata: undefined }),
    ).rejects.toThrow(/cannot be cancelled/);
    const resub = await collect(client.resubscribeTask({ id: waiting.id, tenant: "" }));
    expect(stateOf(resub.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_CANCELED);
  });

  it("serves v0.3 method names (message/send, tasks/get) and answers malformed requests with the spec's codes", async () => {
    const s = await serve({ workflows: [mailer(), asker, hidden] });
    const url = `${s.url}/a2a/asker`;
    const messageId = randomUUID();
    const legacy = await rpc(url, {
      jsonrpc: "2.0",
      id: 1,
      method: "message/send",
      params: {
        message: {
          kind: "message",
          messageId,
          role: "user",
          parts: [{ kind: "text", text: "hi" }],
        },
      },
    });
    expect(legacy.body.result.kind).toBe("task");
    expect(legacy.body.result.status.state).toBe("input-required");
    const get = await rpc(url, {
      jsonrpc: "2.0",
      id: 2,
      method: "tasks/get",
      params: { id: legacy.body.result.id },
    });
    expect(get.body.result.id).toBe(legacy.body.result.id);

    expect((await rpc(url, "{not json")).body.error.code).toBe(-32700);
    expect((await rpc(url, { id: 3, method: "GetTask", params: {} })).body.error.code).toBe(-32600);
    expect(
      (await rpc(url, { jsonrpc: "2.0", id: 4, method: "NoSuchMethod", params: {} })).body.error
        .code,
    ).toBe(-32601);
    const missing = await rpc(url, {
      jsonrpc: "2.0",
      id: 5,
      method: "GetTask",
      params: { id: "a2a-nope" },
    });
    expect(missing.body.error.code).toBe(-32001);
    const noParts = await rpc(url, {
      jsonrpc: "2.0",
      id: 6,
      method: "SendMessage",
      params: { message: { messageId: "m-1", role: "ROLE_USER", parts: [] } },
    });
    expect(noParts.body.error.code).toBe(-32602);
    expect(noParts.body.error.message).toMatch(/parts is empty/);
    const noId = await rpc(url, {
      jsonrpc: "2.0",
      id: 7,
      method: "SendMessage",
      params: { message: { role: "ROLE_USER", parts: [{ text: "x" }] } },
    });
    expect(noId.body.error.code).toBe(-32602);
    const ended = await rpc(url, {
      jsonrpc: "2.0",
      id: 8,
      method: "CancelTask",
      params: { id: "a2a-unknown" },
    });
    expect(ended.body.error.code).toBe(-32001);
    // An agent prompt that is empty is the agent's input error, as invalid params.
    const empty = await rpc(`${s.url}/a2a/mailer`, {
      jsonrpc: "2.0",
      id: 9,
      method: "SendMessage",
      params: { message: { messageId: "m-2", role: "ROLE_USER", parts: [{ data: { a: 1 } }] } },
    });
    expect(empty.body.error.code).toBe(-32602);
    expect(empty.body.error.message).toMatch(/prompt/);
  });

  it("needs an operator token for JSON-RPC, serves cards to anyone, and lists agents at the root", async () => {
    const s = await serve({ workflows: [mailer(), asker, hidden] });
    const unauthorized = await fetch(`${s.url}/a2a/asker`, { method: "POST", body: "{}" });
    expect(unauthorized.status).toBe(401);
    const viewer = await rpc(
      `${s.url}/a2a/asker`,
      { jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } },
      VIEWER,
    );
    expect(viewer.status).toBe(403);
    const card = await fetch(`${s.url}/a2a/asker/.well-known/agent-card.json`);
    expect(card.status).toBe(200);
    expect(((await card.json()) as { name: string }).name).toBe("asker");
    const hiddenCard = await fetch(`${s.url}/a2a/hidden/.well-known/agent-card.json`);
    expect(hiddenCard.status).toBe(404);
    const root = (await (await fetch(`${s.url}/.well-known/agent-card.json`)).json()) as {
      agents: { name: string; card: string }[];
    };
    expect(root.agents.map((a) => a.name).sort()).toEqual(["asker", "mailer"]);
    const one = await serve({ workflows: [asker] });
    const single = (await (await fetch(`${one.url}/.well-known/agent-card.json`)).json()) as {
      name: string;
    };
    expect(single.name).toBe("asker");
  });

  it("refuses messages at the edge of its limits", async () => {
    const s = await serve({ workflows: [asker] });
    const url = `${s.url}/a2a/asker`;
    const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `p${i}` }));
    const send = (messageId: string, n: number) =>
      rpc(url, {
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: {
          message: { messageId, role: "ROLE_USER", parts: parts(n) },
          configuration: { returnImmediately: true },
        },
      });
    const atMax = await send("m-parts-max", serverLimits.A2A_MESSAGE_PARTS_MAX);
    expect(atMax.body.result.task.id).toMatch(/^a2a-/);
    const over = await send("m-parts-over", serverLimits.A2A_MESSAGE_PARTS_MAX + 1);
    expect(over.body.error.code).toBe(-32602);
    expect(over.body.error.message).toContain("A2A_MESSAGE_PARTS_MAX");
    const longest = await send("m".repeat(serverLimits.A2A_MESSAGE_ID_LENGTH_MAX), 1);
    expect(longest.body.result.task.id).toMatch(/^a2a-/);
    const tooLong = await send("m".repeat(serverLimits.A2A_MESSAGE_ID_LENGTH_MAX + 1), 1);
    expect(tooLong.body.error.code).toBe(-32602);
    expect(tooLong.body.error.message).toContain("A2A_MESSAGE_ID_LENGTH_MAX");
    const taskId = atMax.body.result.task.id as string;
    const push = (i: number) =>
      rpc(url, {
        jsonrpc: "2.0",
        id: 1,
        method: "CreateTaskPushNotificationConfig",
        params: { taskId, id: `c${i}`, url: `http://127.0.0.1:9/${i}` },
      });
    for (let i = 0; i < serverLimits.A2A_PUSH_CONFIGS_MAX; i++)
      expect((await push(i)).body.result.id).toBe(`c${i}`);
    const pushOver = await push(serverLimits.A2A_PUSH_CONFIGS_MAX);
    expect(pushOver.body.error.code).toBe(-32602);
    expect(pushOver.body.error.message).toContain("A2A_PUSH_CONFIGS_MAX");
  });

  it("pushes each state change to a receiver that asked for it", async () => {
    const { createServer: createHttp } = await import("node:http");
    const received: { state: string; token: string | undefined }[] = [];
    const receiver = createHttp((req, res) => {
      let text = "";
      req.on("data", (c) => (text += String(c)));
      req.on("end", () => {
        const body = JSON.parse(text) as { task: { status: { state: string } } };
        received.push({
          state: body.task.status.state,
          token: req.headers["x-a2a-notification-token"] as string | undefined,
        });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const port = (receiver.address() as { port: number }).port;
    try {
      const s = await serve({ workflows: [asker] });
      const client = await clientOf(s.url, "asker");
      const task = (await client.sendMessage(
        send(userMessage("one"), {
          acceptedOutputModes: [],
          returnImmediately: false,
          taskPushNotificationConfig: {
            tenant: "",
            id: "",
            taskId: "",
            url: `http://127.0.0.1:${port}/hook`,
            token: "secret-token",
            authentication: undefined,
          },
        }),
      )) as Task;
      await eventually(() => received.some((r) => r.state === "TASK_STATE_INPUT_REQUIRED"));
      await client.sendMessage(send(userMessage("two", { taskId: task.id })));
      await eventually(() => received.at(-1)?.state === "TASK_STATE_COMPLETED");
      // Each state told once: the receiver acknowledged it.
      const states = received.map((r) => r.state);
      expect(new Set(states).size).toBe(states.length);
      expect(received.every((r) => r.token === "secret-token")).toBe(true);
    } finally {
      receiver.close();
    }
  });
});
