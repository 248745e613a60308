// Proves llm(ctx, ...), one durable model call in any workflow, against the local model server and
// a real SQLite file: the whole response is journaled and a replay never calls the server
// again; 429 waits its Retry-After, 5xx and timeouts retry with backoff, 4xx fails at once;
// cost comes from the price table and the run's totals match what the server reported;
// streamed text reaches the run's output stream, and a retry after text says so.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow, type StreamChunk } from "endure";
import { createTestClock } from "endure/testing";
import { aiLimits, llm, openaiCompatible, scriptedModel, type Model } from "endure/ai";
import { eventually, sqliteEngine } from "../helpers.js";
import { startModelServer, type Behavior, type ModelServer } from "../fixtures/model-server.js";

let server: ModelServer;
let behavior: Behavior;

beforeEach(async () => {
  behavior = () => ({ text: "fine" });
  server = await startModelServer((c) => behavior(c));
});
afterEach(() => server.close());

const fast = { retries: 3, backoff: { initial: 5, max: 20 } };
function model(over: Partial<Parameters<typeof openaiCompatible>[0]> = {}): Model {
  return openaiCompatible({
    baseURL: server.openaiURL,
    model: "gpt-test",
    retry: fast,
    prices: { "gpt-test": { input: 2, output: 8 } },
    ...over,
  });
}

const ask = (m: Model, name = "ask") =>
  workflow(name, async (ctx, input: { q: string }) => {
    const reply = await llm(ctx, "answer", m, { messages: [{ role: "user", content: input.q }] });
    await ctx.sleep("pause", "1h");
    return reply.text;
  });

describe("llm", () => {
  it("journals the whole response: a replay after eviction does not call the model again", async () => {
    behavior = () => ({ text: "Paris", usage: { input: 11, output: 2 } });
    const clock = createTestClock();
    const wf = ask(model());
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, { q: "Capital of France?" }, { id: "llm-1" });
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toBe("Paris");
    expect(server.calls).toHaveLength(1);
    const journal = await engine.journal(run.id);
    expect(journal.some((e) => e.type === "run_resumed")).toBe(true);
    const answer = journal.find((e) => e.type === "step_succeeded" && e.key === "answer#1");
    expect(answer?.data).toMatchObject({
      result: {
        text: "Paris",
        toolCalls: [],
        finishReason: "stop",
        model: "gpt-test",
        id: "resp_0",
        usage: { inputTokens: 11, outputTokens: 2, costUsd: (11 * 2 + 2 * 8) / 1e6 },
      },
      usage: { inputTokens: 11, outputTokens: 2 },
    });
  });

  it("waits a 429's Retry-After, durably, then succeeds", async () => {
    behavior = (c) => (c.index === 0 ? { status: 429, retryAfter: "1" } : { text: "ok" });
    const wf = ask(model());
    const clock = createTestClock();
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, { q: "hi" });
    await eventually(() => server.calls.length === 1);
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "step_attempt_failed"),
    );
    const failed = (await engine.journal(run.id)).find((e) => e.type === "step_attempt_failed");
    expect(failed?.data).toMatchObject({ attempt: 1, delayMs: 1000 });
    expect(String((failed?.data as { error: Error }).error.message)).toContain("HTTP 429");
    expect(server.calls).toHaveLength(1);
    await clock.advance("1s");
    await eventually(() => server.calls.length === 2);
    await clock.advance("1h");
    expect(await run.result()).toBe("ok");
  });

  it("retries 500s and timeouts with backoff, and fails at once on a 400", async () => {
    behavior = (c) =>
      c.index === 0
        ? { status: 500 }
        : c.index === 1
          ? { text: "slow", delayMs: 600 }
          : { text: "third time" };
    const wf = workflow("retrying", async (ctx) => {
      const r = await llm(ctx, "a", model({ timeout: 200 }), {
        messages: [{ role: "user", content: "x" }],
      });
      return r.text;
    });
    const refusing = workflow("refused", async (ctx) => {
      const r = await llm(ctx, "a", model(), { messages: [{ role: "user", content: "x" }] });
      return r.text;
    });
    const engine = await sqliteEngine({ workflows: [wf, refusing] });
    const run = await engine.start(wf, null);
    expect(await run.result()).toBe("third time");
    const failures = (await engine.journal(run.id)).filter((e) => e.type === "step_attempt_failed");
    expect(failures.map((f) => (f.data as { error: { code: string } }).error.code)).toEqual([
      "model_unavailable",
      "model_timeout",
    ]);
    behavior = () => ({
      status: 400,
      body: JSON.stringify({ error: { message: "unknown model" } }),
    });
    const before = server.calls.length;
    const bad = await engine.start(refusing, null);
    await expect(bad.result()).rejects.toMatchObject({ code: "non_retriable" });
    expect(server.calls.length - before).toBe(1);
    const step = (await engine.journal(bad.id)).find((e) => e.type === "step_failed");
    expect(String((step?.data as { error: Error }).error.message)).toContain("unknown model");
  });

  it(`retries a failing model ${aiLimits.MODEL_RETRIES_DEFAULT} times by default, then fails the run`, async () => {
    behavior = () => ({ status: 503 });
    const clock = createTestClock();
    const m = openaiCompatible({ baseURL: server.openaiURL, model: "gpt-test" });
    const wf = workflow("down", async (ctx) => {
      await llm(ctx, "a", m, { messages: [{ role: "user", content: "x" }] });
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null);
    let ended = false;
    const result = run.result().then(
      () => null,
      (e: unknown) => e,
    );
    void result.finally(() => (ended = true));
    for (let i = 0; i < 200 && !ended; i++) await clock.advance("10s");
    expect(await result).toMatchObject({ code: "model_unavailable" });
    expect(server.calls).toHaveLength(aiLimits.MODEL_RETRIES_DEFAULT + 1);
  });

  it("sums usage and cost per run to what the server reported", async () => {
    const prices = { "gpt-test": { input: 2.5, output: 10 } };
    const wf = workflow("costly", async (ctx) => {
      const m = model({ prices });
      for (let i = 0; i < 4; i++)
        await llm(ctx, "turn", m, { messages: [{ role: "user", content: "x".repeat(i * 50) }] });
      return "done";
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null);
    await run.result();
    const reported = server.calls.map((c) => c.usage!);
    const input = reported.reduce((n, u) => n + u.input, 0);
    const output = reported.reduce((n, u) => n + u.output, 0);
    const usage = (await run.info()).usage;
    expect(usage.inputTokens).toBe(input);
    expect(usage.outputTokens).toBe(output);
    expect(usage.calls).toBe(4);
    expect(usage.costUsd).toBeCloseTo((input * 2.5 + output * 10) / 1e6, 12);
  });

  it("streams text into the output stream; a retry after text starts with a retry part", async () => {
    behavior = (c) =>
      c.index === 0
        ? { text: "partial answer that breaks", dropAfterChunks: 2 }
        : { text: "the full answer" };
    const wf = workflow("streamed", async (ctx) => {
      const r = await llm(
        ctx,
        "answer",
        model(),
        { messages: [{ role: "user", content: "q" }] },
        { stream: true },
      );
      return r.text;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null, { id: "streamed-1" });
    expect(await run.result()).toBe("the full answer");
    const parts: StreamChunk[] = [];
    for await (const chunk of run.stream()) parts.push(chunk);
    const summary = parts.map(({ part }) =>
      part.type === "text-delta"
        ? `delta:${String(part["id"])}`
        : `${part.type}:${typeof part["id"] === "string" ? part["id"] : ""}`,
    );
    const first = summary.indexOf("data-endure-retry:");
    expect(first).toBeGreaterThan(0);
    // The broken attempt's text part is closed before the retry is announced.
    expect(summary.slice(0, first)).toEqual(
      expect.arrayContaining(["text-start:answer#1.1", "text-end:answer#1.1"]),
    );
    expect(summary.slice(first + 1)).toContain("text-start:answer#1.2");
    expect(summary.at(-1)).toBe("text-end:answer#1.2");
    const text = parts
      .filter(({ part }) => part.type === "text-delta" && part["id"] === "answer#1.2")
      .map(({ part }) => String(part["delta"]))
      .join("");
    expect(text).toBe("the full answer");
    expect(parts.find(({ part }) => part.type === "data-endure-retry")?.part).toEqual({
      type: "data-endure-retry",
      data: { step: "answer#1", attempt: 2 },
    });
  });

  it("refuses bad requests and non-models before calling anything", async () => {
    const wf = workflow("bad-llm", async (ctx, input: { kind: string }) => {
      try {
        if (input.kind === "empty") await llm(ctx, "a", scriptedModel(["x"]), { messages: [] });
        if (input.kind === "role")
          await llm(ctx, "a", scriptedModel(["x"]), {
            messages: [{ role: "system", content: "x" } as never],
          });
        if (input.kind === "model")
          await llm(ctx, "a", {} as Model, { messages: [{ role: "user", content: "x" }] });
        return "called";
      } catch (e) {
        return (e as Error).message;
      }
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const outcome = async (kind: string) => (await engine.start(wf, { kind })).result();
    expect(await outcome("empty")).toContain("needs at least one message");
    expect(await outcome("role")).toContain('role of "user", "assistant" or "tool"');
    expect(await outcome("model")).toContain("needs a model");
  });

  it("gives a scripted model's replies by call order in the run, the same after a replay", async () => {
    const clock = createTestClock();
    const m = scriptedModel(["one", "two", "three"]);
    const wf = workflow("scripted", async (ctx) => {
      const a = await llm(ctx, "a", m, { messages: [{ role: "user", content: "x" }] });
      await ctx.sleep("nap", "1h");
      const b = await llm(ctx, "b", m, { messages: [{ role: "user", content: "x" }] });
      return `${a.text} ${b.text}`;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null);
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toBe("one two");
    const once = scriptedModel(["only"]);
    const over = workflow("over", async (ctx) => {
      for (let i = 0; i < 2; i++)
        await llm(ctx, "a", once, { messages: [{ role: "user", content: "x" }] });
    });
    const engine2 = await sqliteEngine({ workflows: [over] });
    await expect((await engine2.start(over, null)).result()).rejects.toThrow(
      /has 1 replies; call 2 of it asked for one more/,
    );
  });
});
