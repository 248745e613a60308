// Proves endure/ai-sdk with the real AI SDK (ai@6) and its OpenAI-compatible provider talking
// HTTP to the local model server: generateText and streamText calls are journaled steps that a
// replay answers without the server (a stream rebuilt from the journal); tools run once as
// steps keyed by their call id; a stream that fails after its text reached the caller is not
// retried, one that fails before is; needsApproval becomes an endure approval; and the run's
// output stream is a UI message stream the SDK's own reader turns into a message.
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  generateText,
  readUIMessageStream,
  stepCountIs,
  streamText,
  ToolLoopAgent,
  tool,
  type UIMessage,
} from "ai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { workflow, type JournalRecord } from "endure";
import { createTestClock } from "endure/testing";
import { durableModel, durableTools, toUIMessageStream } from "endure/ai-sdk";
import { eventually, sqliteEngine } from "../helpers.js";
import { startModelServer, type Behavior, type ModelServer } from "../fixtures/model-server.js";

let server: ModelServer;
let behavior: Behavior;

beforeEach(async () => {
  behavior = () => ({ text: "fine" });
  server = await startModelServer((c) => behavior(c));
});
afterEach(() => server.close());

const provider = () =>
  createOpenAICompatible({
    name: "local",
    baseURL: server.openaiURL,
    apiKey: "k",
    includeUsage: true,
  });

const keys = (journal: JournalRecord[]) =>
  journal.filter((e) => e.type === "step_succeeded" || e.type === "step_failed").map((e) => e.key);

/** Tool call first, then an answer built from the tool result. */
const toolThenAnswer: Behavior = (c) => {
  const messages = c.body["messages"] as Array<{ role: string; content: string }>;
  const result = messages.find((m) => m.role === "tool");
  if (result === undefined)
    return { toolCalls: [{ id: "call_w1", name: "weather", arguments: '{"city":"Oslo"}' }] };
  return { text: `Weather: ${result.content}` };
};

describe("endure/ai-sdk", () => {
  it("journals generateText's model calls and runs tools once; a replay calls nothing", async () => {
    behavior = toolThenAnswer;
    let executions = 0;
    const keysSeen: string[] = [];
    const clock = createTestClock();
    const wf = workflow("sdk-generate", async (ctx, input: { city: string }) => {
      const { text } = await generateText({
        model: durableModel(ctx, provider()("gpt-test"), {
          prices: { "gpt-test": { input: 1, output: 2 } },
        }),
        tools: durableTools(ctx, {
          weather: tool({
            description: "Weather in a city",
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }, options) => {
              executions++;
              keysSeen.push((options as unknown as { idempotencyKey: string }).idempotencyKey);
              return `sunny in ${city}`;
            },
          }),
        }),
        stopWhen: stepCountIs(4),
        maxRetries: 0,
        prompt: `Weather in ${input.city}?`,
      });
      await ctx.sleep("pause", "1h");
      return text;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, { city: "Oslo" }, { id: "sdk-1" });
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toBe("Weather: sunny in Oslo");
    expect(server.calls).toHaveLength(2);
    expect(executions).toBe(1);
    expect(keysSeen).toEqual(["sdk-1/weather call_w1#1"]);
    const journal = await engine.journal(run.id);
    expect(journal.some((e) => e.type === "run_resumed")).toBe(true);
    expect(keys(journal)).toEqual(["model#1", "weather call_w1#1", "model#2"]);
    const usage = (await run.info()).usage;
    const reported = server.calls.map((c) => c.usage!);
    expect(usage.inputTokens).toBe(reported[0]!.input + reported[1]!.input);
    expect(usage.outputTokens).toBe(reported[0]!.output + reported[1]!.output);
    expect(usage.costUsd).toBeCloseTo((usage.inputTokens + 2 * usage.outputTokens) / 1e6, 12);
  });

  it("works with the SDK's own agent class: its calls and tools are steps too", async () => {
    behavior = toolThenAnswer;
    let executions = 0;
    const wf = workflow("sdk-agent", async (ctx) => {
      const weatherAgent = new ToolLoopAgent({
        model: durableModel(ctx, provider()("gpt-test")),
        tools: durableTools(ctx, {
          weather: tool({
            description: "Weather in a city",
            inputSchema: z.object({ city: z.string() }),
            execute: ({ city }) => {
              executions++;
              return `rain in ${city}`;
            },
          }),
        }),
        stopWhen: stepCountIs(4),
        maxRetries: 0,
      });
      const { text } = await weatherAgent.generate({ prompt: "Weather in Oslo?" });
      return text;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null);
    expect(await run.result()).toBe("Weather: rain in Oslo");
    expect(executions).toBe(1);
    expect(keys(await engine.journal(run.id))).toEqual(["model#1", "weather call_w1#1", "model#2"]);
  });

  it("rebuilds a streamText call from the journal on replay, without the server", async () => {
    behavior = () => ({ text: "Streams are rebuilt from the journal." });
    const seen: string[] = [];
    const clock = createTestClock();
    const wf = workflow("sdk-stream", async (ctx) => {
      const result = streamText({
        model: durableModel(ctx, provider()("gpt-test")),
        maxRetries: 0,
        prompt: "hi",
      });
      let text = "";
      for await (const delta of result.textStream) text += delta;
      seen.push(text);
      await ctx.sleep("pause", "1h");
      return text;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null);
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toBe("Streams are rebuilt from the journal.");
    expect(seen).toEqual([
      "Streams are rebuilt from the journal.",
      "Streams are rebuilt from the journal.",
    ]);
    expect(server.calls).toHaveLength(1);
    const text = (await engine.readStream(run.id))
      .filter((c) => c.part.type === "text-delta")
      .map((c) => String(c.part["delta"]))
      .join("");
    expect(text).toBe("Streams are rebuilt from the journal.");
  });

  it("does not retry a stream that failed after text reached the caller; retries one that failed before", async () => {
    behavior = () => ({ text: "this text will be cut off midway", dropAfterChunks: 2 });
    const wf = workflow("sdk-cut", async (ctx) => {
      const errors: string[] = [];
      const result = streamText({
        model: durableModel(ctx, provider()("gpt-test"), {
          retry: { retries: 3, backoff: { initial: 1, max: 2 } },
        }),
        maxRetries: 0,
        prompt: "hi",
        onError: ({ error }) => void errors.push(String((error as Error).message)),
      });
      let text = "";
      try {
        for await (const delta of result.textStream) text += delta;
      } catch (e) {
        errors.push((e as Error).message);
      }
      return { text, errors };
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const cut = await (await engine.start(wf, null)).result();
    expect(server.calls).toHaveLength(1);
    expect(cut.text.length).toBeGreaterThan(0);
    expect(cut.errors.join(" ")).toContain("failed after its output reached the caller");
    // A 429 before any text is retried after its Retry-After, and the caller sees one answer.
    behavior = (c) => (c.index === 1 ? { status: 429, retryAfter: "0" } : { text: "second try" });
    const retried = await (await engine.start(wf, null)).result();
    expect(retried).toEqual({ text: "second try", errors: [] });
    expect(server.calls).toHaveLength(3);
  });

  it("maps needsApproval onto an endure approval; a rejection reaches the model with the comment", async () => {
    behavior = (c) => {
      const messages = c.body["messages"] as Array<{ role: string; content: string }>;
      const result = messages.find((m) => m.role === "tool");
      if (result === undefined)
        return { toolCalls: [{ id: "call_pay", name: "pay", arguments: '{"amount":500}' }] };
      return { text: `Model saw: ${result.content}` };
    };
    let paid = 0;
    const wf = workflow("sdk-approval", async (ctx) => {
      const { text } = await generateText({
        model: durableModel(ctx, provider()("gpt-test")),
        tools: durableTools(ctx, {
          pay: tool({
            description: "Pay",
            inputSchema: z.object({ amount: z.number() }),
            needsApproval: ({ amount }) => amount > 100,
            execute: () => {
              paid++;
              return "paid";
            },
          }),
        }),
        stopWhen: stepCountIs(3),
        maxRetries: 0,
        prompt: "pay the invoice",
      });
      return text;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const approved = await engine.start(wf, null);
    const first = await eventually(async () => (await engine.approvals({ runId: approved.id }))[0]);
    expect(first).toMatchObject({
      name: "pay call_pay",
      details: { tool: "pay", toolCallId: "call_pay", input: { amount: 500 } },
    });
    await engine.approve(approved.id, "pay call_pay", { by: "ana" });
    expect(await approved.result()).toBe("Model saw: paid");
    expect(paid).toBe(1);
    const rejected = await engine.start(wf, null);
    await eventually(async () => (await engine.approvals({ runId: rejected.id }))[0]);
    await engine.reject(rejected.id, "pay call_pay", { by: "bo", comment: "wrong account" });
    expect(await rejected.result()).toContain("bo rejected it: wrong account");
    expect(paid).toBe(1);
  });

  it("gives a run's output stream as a UI message stream the SDK reads into one message", async () => {
    behavior = toolThenAnswer;
    const wf = workflow("sdk-ui", async (ctx) => {
      ctx.emit({ type: "start", messageId: ctx.runId });
      const { text } = await generateText({
        model: durableModel(ctx, provider()("gpt-test")),
        tools: durableTools(ctx, {
          weather: tool({
            description: "Weather",
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => ({ city, sky: "clear" }),
          }),
        }),
        stopWhen: stepCountIs(3),
        maxRetries: 0,
        prompt: "weather?",
      });
      ctx.emit({ type: "finish" });
      return text;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null, { id: "ui-1" });
    await run.result();
    const offsets: number[] = [];
    let message: UIMessage | undefined;
    const stream = toUIMessageStream(run.stream(), { onOffset: (o) => offsets.push(o) });
    for await (const m of readUIMessageStream({ stream, terminateOnError: true })) message = m;
    expect(message?.id).toBe("ui-1");
    const parts = message?.parts.filter((p) => p.type !== "step-start") ?? [];
    expect(parts).toMatchObject([
      {
        type: "tool-weather",
        toolCallId: "call_w1",
        state: "output-available",
        input: { city: "Oslo" },
        output: { city: "Oslo", sky: "clear" },
      },
      { type: "text", text: 'Weather: {"city":"Oslo","sky":"clear"}', state: "done" },
    ]);
    expect(offsets).toEqual(offsets.map((_, i) => i));
  });
});
