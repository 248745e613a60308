// A chat answer written with the Vercel AI SDK's streamText inside a workflow, read by a
// client over endure's HTTP API that loses its connection mid-answer and picks it up again.
// The model call is a journaled step (durableModel), and every part it streams goes to the
// run's output stream, numbered from 0. The client reads GET /v1/runs/{id}/stream as
// Server-Sent Events, remembers the last offset it saw, drops the connection after a few
// words, and reconnects from the next offset: it gets the rest of the answer, no part twice
// and none missing, and the AI SDK's own reader assembles one message from what it got.
// Offline: the model is the AI SDK's MockLanguageModelV3 streaming a scripted answer word by
// word. Run it twice (npx tsx examples/ai-sdk-chat.ts): the second time the answer is read
// back from the store, and the model is not called.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readUIMessageStream, streamText, type UIMessageChunk } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { createEngine, workflow } from "endure";
import { durableModel } from "endure/ai-sdk";
import { createClient } from "endure/client";
import { createServer } from "endure/server";
import { sqliteStore } from "endure/sqlite";

const ANSWER =
  "A durable run writes each step to its journal before moving on, so a crash costs " +
  "nothing: the next worker replays the journal and carries on from the last step.";

/** A part of a model's stream, as the AI SDK's model interface (v3) defines it. */
type LanguageModelV3StreamPart =
  Awaited<ReturnType<MockLanguageModelV3["doStream"]>>["stream"] extends ReadableStream<infer P>
    ? P
    : never;

let modelCalls = 0;
/** Resolved once the client has dropped its first connection (see main). */
let clientGone: () => void = () => {};
const disconnected = new Promise<void>((resolve) => (clientGone = resolve));

/**
 * The offline model: streams ANSWER a word every 30 ms, as a provider would. To show the
 * reconnect mid-answer on any machine, it holds its fifth word until the client is gone.
 */
const model = new MockLanguageModelV3({
  modelId: "scripted-chat",
  doStream: async () => {
    modelCalls++;
    const words = ANSWER.split(/(?<= )/);
    const parts: LanguageModelV3StreamPart[] = [
      { type: "stream-start", warnings: [] },
      { type: "text-start", id: "t" },
      ...words.map((delta): LanguageModelV3StreamPart => ({ type: "text-delta", id: "t", delta })),
      { type: "text-end", id: "t" },
      {
        type: "finish",
        finishReason: { unified: "stop", raw: "stop" },
        usage: {
          inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: words.length, text: words.length, reasoning: 0 },
        },
      },
    ];
    let i = 0;
    return {
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          const part = parts[i++];
          if (part === undefined) return controller.close();
          if (part.type === "text-delta") await sleep(30);
          if (i === 7) await disconnected; // parts 0-1, then words 1-4 went out
          controller.enqueue(part);
        },
      }),
    };
  },
});

export const chat = workflow("chat", async (ctx, input: { question: string }) => {
  ctx.emit({ type: "start", messageId: ctx.runId });
  const result = streamText({
    model: durableModel(ctx, model),
    maxRetries: 0, // endure retries the step, durably
    prompt: input.question,
  });
  const text = await result.text;
  ctx.emit({ type: "finish" });
  return text;
});

export async function main(dir = process.cwd()): Promise<void> {
  mkdirSync(join(dir, ".endure"), { recursive: true });
  const engine = await createEngine({
    store: sqliteStore(join(dir, ".endure/chat.db")),
    workflows: [chat],
  });
  const server = createServer({
    engine,
    tokens: [{ name: "chat-ui", token: "example-chat-token-1", role: "operator" }],
  });
  const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
  try {
    const client = createClient({ url, token: "example-chat-token-1" });
    const started = await client.start(
      "chat",
      { question: "What makes a run durable?" },
      { id: "chat-1" },
    );
    console.log(`POST /v1/workflows/chat/runs -> ${started.status}, run ${started.run.id}`);

    // First connection: read until four words have arrived, then drop the connection.
    const received: Array<{ offset: number; part: Record<string, unknown> }> = [];
    let words = 0;
    for await (const chunk of client.followStream(started.run.id)) {
      received.push(chunk);
      if (chunk.part.type === "text-delta" && ++words === 4) break; // the connection is gone
    }
    const last = received.at(-1)?.offset ?? -1;
    const heard = received.map((c) => (c.part.type === "text-delta" ? c.part["delta"] : ""));
    const status = (await client.getRun(started.run.id)).status;
    console.log(`disconnected after offset ${last} (run ${status}): "${heard.join("").trim()}"`);
    clientGone();
    await sleep(200); // offline for a moment, while the run streams on

    // Second connection: from the next offset (an SSE client sends Last-Event-ID instead).
    for await (const chunk of client.followStream(started.run.id, { from: last + 1 }))
      received.push(chunk);
    const offsets = received.map((c) => c.offset);
    const inOrder = offsets.every((o, i) => o === i);
    console.log(
      `reconnected from offset ${last + 1}: ${received.length} parts in all, ` +
        `each offset once and in order: ${inOrder}`,
    );

    // What useChat would show: the AI SDK assembles the parts into one message.
    const chunks = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const c of received) controller.enqueue(c.part as unknown as UIMessageChunk);
        controller.close();
      },
    });
    let message = "";
    for await (const m of readUIMessageStream({ stream: chunks, terminateOnError: true }))
      message = m.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
    console.log(`message: ${message}`);
    const run = await client.getRun(started.run.id);
    console.log(`run ${run.status}, same text as its output: ${run.output === message}`);
    console.log(`model calls in this process: ${modelCalls}`);
  } finally {
    await server.close();
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
