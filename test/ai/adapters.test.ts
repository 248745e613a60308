// Proves the HTTP model adapters against a real local server speaking the OpenAI and
// Anthropic wire formats: requests are shaped as each API expects, JSON and streamed replies
// (text, tool calls, usage) are read back, 429/5xx/4xx become retried or refused errors,
// timeouts abort the request (the server sees the client leave), and cut streams fail clearly.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEndureError } from "endure";
import {
  aiLimits,
  anthropic,
  openaiCompatible,
  type Model,
  type ModelCall,
  type ModelRequest,
} from "endure/ai";
import { retryAfterMs } from "../../src/ai/http.js";
import {
  startModelServer,
  type Behavior,
  type ModelServer,
  type Reply,
} from "../fixtures/model-server.js";

let server: ModelServer;
let reply: Behavior = () => ({ text: "hello" });

beforeEach(async () => {
  reply = () => ({ text: "hello" });
  server = await startModelServer((call) => reply(call));
});
afterEach(() => server.close());

function call(over: Partial<ModelCall> = {}): ModelCall {
  return {
    signal: new AbortController().signal,
    idempotencyKey: "run/model#1",
    attempt: 1,
    callIndex: 0,
    ...over,
  };
}

const request: ModelRequest = {
  system: "Be brief.",
  messages: [
    { role: "user", content: "Find leads" },
    {
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: "search", arguments: '{"q":"db"}' }],
    },
    { role: "tool", toolCallId: "c1", name: "search", content: "Acme" },
    { role: "user", content: "And?" },
  ],
  tools: [
    {
      name: "search",
      description: "Search",
      inputSchema: { type: "object", properties: { q: { type: "string" } } },
    },
  ],
  temperature: 0.2,
};

const models = (over: { timeout?: string | number; stream?: boolean } = {}) => ({
  openai: openaiCompatible({
    baseURL: server.openaiURL,
    apiKey: "sk-test",
    model: "gpt-test",
    ...over,
  }),
  anthropic: anthropic({
    baseURL: server.anthropicURL,
    apiKey: "ak-test",
    model: "claude-test",
    ...over,
  }),
});

async function failure(model: Model, c: ModelCall = call()): Promise<Error & { code?: string }> {
  try {
    await model.generate(request, c);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected the call to fail");
}

describe("OpenAI-compatible adapter", () => {
  it("sends the Chat Completions shape and reads text, tool calls and usage", async () => {
    reply = () => ({
      text: "On it",
      toolCalls: [{ name: "search", arguments: '{"q":"vector"}' }],
      usage: { input: 120, output: 9 },
    });
    const got = await models().openai.generate(request, call());
    expect(got).toMatchObject({
      text: "On it",
      toolCalls: [{ name: "search", arguments: '{"q":"vector"}' }],
      finishReason: "tool_calls",
      usage: { inputTokens: 120, outputTokens: 9 },
      model: "gpt-test",
      id: "resp_0",
    });
    const sent = server.calls[0]!;
    expect(sent.api).toBe("openai");
    expect(sent.headers.authorization).toBe("Bearer sk-test");
    expect(sent.body).toMatchObject({
      model: "gpt-test",
      temperature: 0.2,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Find leads" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "search", arguments: '{"q":"db"}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "Acme" },
        { role: "user", content: "And?" },
      ],
      tools: [{ type: "function", function: { name: "search", description: "Search" } }],
    });
    expect(sent.body["stream"]).toBeUndefined();
  });

  it("streams: text arrives piece by piece, tool calls and usage are assembled", async () => {
    reply = () => ({
      text: "Streaming works fine",
      toolCalls: [
        { name: "search", arguments: '{"q":"one"}' },
        { name: "fetch", arguments: '{"url":"https://x"}' },
      ],
      usage: { input: 40, output: 12 },
    });
    const deltas: string[] = [];
    const got = await models().openai.generate(request, call({ onText: (d) => deltas.push(d) }));
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join("")).toBe("Streaming works fine");
    expect(got.text).toBe("Streaming works fine");
    expect(got.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ["search", '{"q":"one"}'],
      ["fetch", '{"url":"https://x"}'],
    ]);
    expect(got.usage).toEqual({ inputTokens: 40, outputTokens: 12 });
    expect(server.calls[0]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("estimates usage, and says so, when the server reports none", async () => {
    reply = () => ({ text: "x".repeat(40), omitUsage: true });
    const got = await models().openai.generate(request, call());
    expect(got.usage.estimated).toBe(true);
    expect(got.usage.outputTokens).toBe(10);
    expect(got.usage.inputTokens).toBeGreaterThan(0);
  });
});

describe("Anthropic adapter", () => {
  it("sends the Messages shape: system apart, tool results as user blocks, turns merged", async () => {
    reply = () => ({
      text: "Done",
      toolCalls: [{ name: "search", arguments: '{"q":"x"}' }],
      usage: { input: 70, output: 5 },
    });
    const got = await models().anthropic.generate(request, call());
    expect(got).toMatchObject({
      text: "Done",
      toolCalls: [{ name: "search", arguments: '{"q":"x"}' }],
      finishReason: "tool_calls",
      usage: { inputTokens: 70, outputTokens: 5 },
    });
    const sent = server.calls[0]!;
    expect(sent.api).toBe("anthropic");
    expect(sent.headers["x-api-key"]).toBe("ak-test");
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.body).toMatchObject({
      model: "claude-test",
      system: "Be brief.",
      max_tokens: aiLimits.ANTHROPIC_MAX_TOKENS_DEFAULT,
      tools: [{ name: "search", description: "Search", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "Find leads" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "c1", name: "search", input: { q: "db" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "c1", content: "Acme" },
            { type: "text", text: "And?" },
          ],
        },
      ],
    });
  });

  it("streams text deltas and tool input deltas, with usage from start and delta events", async () => {
    reply = () => ({
      text: "Let me look that up",
      toolCalls: [{ name: "search", arguments: '{"q":"streamed"}' }],
      usage: { input: 33, output: 21 },
    });
    const deltas: string[] = [];
    const got = await models().anthropic.generate(
      { ...request, maxOutputTokens: 500 },
      call({ onText: (d) => deltas.push(d) }),
    );
    expect(deltas.join("")).toBe("Let me look that up");
    expect(deltas.length).toBeGreaterThan(2);
    expect(got.toolCalls).toEqual([
      { id: "toolu_resp_0_0", name: "search", arguments: '{"q":"streamed"}' },
    ]);
    expect(got.usage).toEqual({ inputTokens: 33, outputTokens: 21 });
    expect(server.calls[0]!.body).toMatchObject({ stream: true, max_tokens: 500 });
  });
});

describe("provider faults", () => {
  for (const api of ["openai", "anthropic"] as const) {
    it(`${api}: a 429 with Retry-After asks for that delay; without it the call is retryable`, async () => {
      reply = () => ({ status: 429, retryAfter: "2" });
      const limited = await failure(models()[api]);
      expect(limited.code).toBe("retry_after");
      expect((limited as unknown as { delay: number }).delay).toBe(2000);
      expect(limited.message).toContain("HTTP 429");
      reply = () => ({ status: 429 });
      expect((await failure(models()[api])).code).toBe("model_unavailable");
    });

    it(`${api}: 500, 503 and 529 are retryable; 400 and 401 are refused with the provider's message`, async () => {
      for (const status of [500, 503, 529]) {
        reply = () => ({ status });
        const e = await failure(models()[api]);
        expect(e.code, `HTTP ${status}`).toBe("model_unavailable");
        expect((e as unknown as { status: number }).status).toBe(status);
      }
      reply = () => ({
        status: 400,
        body: JSON.stringify({ error: { message: "model 'x' does not exist" } }),
      });
      const refused = await failure(models()[api]);
      expect(refused.code).toBe("non_retriable");
      expect(refused.message).toContain("HTTP 400");
      expect(refused.message).toContain("model 'x' does not exist");
      reply = () => ({ status: 401, body: "bad key" });
      expect((await failure(models()[api])).message).toContain("bad key");
    });

    it(`${api}: a request past its timeout is aborted, and the server sees the client leave`, async () => {
      reply = () => ({ text: "late", delayMs: 1_000 });
      const started = Date.now();
      const e = await failure(models({ timeout: 150 })[api]);
      expect(e.code).toBe("model_timeout");
      expect(e.message).toContain("timeout of 150 ms");
      expect(Date.now() - started).toBeLessThan(900);
      await expect.poll(() => server.calls[0]?.aborted, { timeout: 2_000 }).toBe(true);
      // At the edge: an answer well inside the timeout passes.
      reply = () => ({ text: "quick", delayMs: 20 });
      expect((await models({ timeout: 1_000 })[api].generate(request, call())).text).toBe("quick");
    });

    it(`${api}: a stream that stalls past the timeout is aborted mid-body`, async () => {
      reply = () => ({ text: "a slow stream of words", chunkDelayMs: 200 });
      const e = await failure(models({ timeout: 300 })[api], call({ onText: () => {} }));
      expect(e.code).toBe("model_timeout");
    });

    it(`${api}: a stream cut midway fails as unavailable, after the text that arrived`, async () => {
      reply = () => ({ text: "this stream will break", dropAfterChunks: 2 });
      const deltas: string[] = [];
      const e = await failure(models()[api], call({ onText: (d) => deltas.push(d) }));
      expect(e.code).toBe("model_unavailable");
      expect(e.message).toContain("broke while reading the response");
      expect(deltas.length).toBe(2);
    });

    it(`${api}: cancelling the call's signal aborts the request with the signal's reason`, async () => {
      reply = () => ({ text: "never", delayMs: 2_000 });
      const controller = new AbortController();
      const pending = failure(models()[api], call({ signal: controller.signal }));
      await expect.poll(() => server.calls.length).toBe(1);
      controller.abort(new Error("run cancelled"));
      expect((await pending).message).toBe("run cancelled");
      await expect.poll(() => server.calls[0]?.aborted, { timeout: 2_000 }).toBe(true);
    });
  }

  it("cuts a provider's error text at the limit, and keeps one at it", async () => {
    const at = "e".repeat(aiLimits.ERROR_TEXT_CHARS_MAX);
    reply = () => ({ status: 400, body: at });
    expect((await failure(models().openai)).message).toContain(`${at}. The request`);
    reply = () => ({ status: 400, body: `${at}X` });
    const cut = await failure(models().openai);
    expect(cut.message).toContain(`${at}…`);
    expect(cut.message).not.toContain("X");
  });

  it("reads Retry-After in seconds, milliseconds or as a date, capped at the limit", () => {
    const h = (init: Record<string, string>) => new Headers(init);
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs(h({ "retry-after": "3" }), now)).toBe(3000);
    expect(retryAfterMs(h({ "retry-after-ms": "250" }), now)).toBe(250);
    expect(retryAfterMs(h({ "retry-after": new Date(now + 5000).toUTCString() }), now)).toBe(5000);
    expect(retryAfterMs(h({ "retry-after": "soon" }), now)).toBeNull();
    expect(retryAfterMs(h({}), now)).toBeNull();
    const max = aiLimits.MODEL_RETRY_AFTER_MS_MAX;
    expect(retryAfterMs(h({ "retry-after-ms": String(max) }), now)).toBe(max);
    expect(retryAfterMs(h({ "retry-after-ms": String(max + 1) }), now)).toBe(max);
  });

  it("fails clearly when nothing listens at the base URL", async () => {
    const port = new URL(server.url).port;
    await server.close();
    const model = openaiCompatible({ baseURL: `http://127.0.0.1:${port}/v1`, model: "m" });
    const e = await failure(model);
    expect(e.code).toBe("model_unavailable");
    expect(e.message).toContain(
      `could not reach openai-compatible at http://127.0.0.1:${port}/v1/chat/completions`,
    );
    server = await startModelServer(() => ({ text: "" }) satisfies Reply);
  });

  it("refuses adapters without a model name", () => {
    expect(() => openaiCompatible({ model: "" })).toThrow(/needs a model name/);
    expect(() => anthropic({} as never)).toThrow(/needs a model name/);
    expect(isEndureError(new Error("x"))).toBe(false);
  });
});
