// Proves the context strategies and the remaining limits at their edges: lastTurns keeps the
// task, a summary written by a durable step and a bounded window of turns, the same on
// replay; a budget stops when less than the minimal reply is left and not a token earlier;
// the default request timeout aborts at exactly its length; an MCP server listing more tools
// than the limit is refused; a stream read returns its default page size.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { limits, workflow } from "endure";
import { createTestClock } from "endure/testing";
import {
  agent,
  aiLimits,
  lastTurns,
  openaiCompatible,
  scriptedModel,
  tool,
  type ModelRequest,
} from "endure/ai";
import { mcpConnection, mcpTools } from "endure/mcp";
import { planCall } from "../../src/ai/budget.js";
import { estimateTokens } from "../../src/ai/messages.js";
import { eventually, sqliteEngine } from "../helpers.js";

const step = tool({
  description: "Take a step",
  input: z.object({ i: z.number() }),
  run: ({ i }) => `step ${i} done`,
});

afterEach(() => {
  vi.useRealTimers();
});

describe("lastTurns context", () => {
  it("sends the task, a summary and a bounded window; the summary is a journaled step", async () => {
    const requests: ModelRequest[] = [];
    const summaries: string[] = [];
    const worker = scriptedModel((request) => {
      requests.push(request);
      const turn = requests.length - 1;
      return turn < 9 ? { toolCalls: [{ name: "step", input: { i: turn } }] } : "all done";
    });
    const summarizer = scriptedModel((request) => {
      const text = request.messages[0]?.content ?? "";
      summaries.push(text);
      return `summary ${summaries.length}: ${(text.match(/step \d+ done/g) ?? []).join(", ")}`;
    });
    const clock = createTestClock();
    const a = agent("windowed", {
      model: worker,
      tools: { step },
      maxTurns: 12,
      context: lastTurns(3, { model: summarizer }),
    });
    const engine = await sqliteEngine({ workflows: [a], clock });
    const run = await engine.start(a, { prompt: "Do ten steps." });
    expect((await run.result()).text).toBe("all done");
    const turnsSent = requests.map((r) => r.messages.filter((m) => m.role === "assistant").length);
    // Never more than 2n - 1 turns; the window slides as summaries fold older turns in.
    expect(Math.max(...turnsSent)).toBeLessThanOrEqual(5);
    expect(turnsSent).toEqual([0, 1, 2, 3, 4, 5, 3, 4, 5, 3]);
    for (const r of requests)
      expect(r.messages[0]).toEqual({ role: "user", content: "Do ten steps." });
    const last = requests.at(-1)!;
    expect(last.messages[1]?.content).toMatch(/^Summary of the earlier turns:\nsummary 2: /);
    expect(summaries[1]).toContain("Earlier summary: summary 1");
    const journal = await engine.journal(run.id);
    const summarySteps = journal.filter(
      (e) => e.type === "step_succeeded" && e.key?.startsWith("summarize context#"),
    );
    expect(summarySteps).toHaveLength(2);
    expect((await run.info()).usage.calls).toBe(12);
  });

  it("rebuilds the same prompts on replay, without summarizing again", async () => {
    const requests: ModelRequest[] = [];
    let summaries = 0;
    const gate = tool({
      description: "Finish, with approval",
      input: z.object({}),
      approval: true,
      run: () => "approved and finished",
    });
    const worker = scriptedModel((request) => {
      requests.push(request);
      const turn = requests.length - 1;
      if (turn < 7) return { toolCalls: [{ name: "step", input: { i: turn } }] };
      return turn === 7 ? { toolCalls: [{ name: "gate", input: {} }] } : "finished";
    });
    const summarizer = scriptedModel(() => `summary ${++summaries}`);
    const a = agent("replayed-window", {
      model: worker,
      tools: { step, gate },
      maxTurns: 12,
      context: lastTurns(2, { model: summarizer }),
    });
    const engine = await sqliteEngine({ workflows: [a], worker: { inMemoryWait: 20 } });
    const run = await engine.start(a, { prompt: "Go." });
    const pending = await eventually(async () => (await engine.approvals({ runId: run.id }))[0]);
    await eventually(async () => (await run.info()).status === "waiting");
    const before = { summaries, calls: requests.length };
    await engine.approve(run.id, pending.name, { by: "ana" });
    expect((await run.result()).text).toBe("finished");
    expect((await engine.journal(run.id)).some((e) => e.type === "run_resumed")).toBe(true);
    // The replay walked every turn again from the journal: no model was asked twice. Only
    // the turn after the approval is new, and with it the window's next summary.
    expect(before.summaries).toBe(2);
    expect(summaries).toBe(3);
    expect(requests).toHaveLength(before.calls + 1);
    expect(requests.at(-1)?.messages[1]?.content).toBe(
      `Summary of the earlier turns:\nsummary ${summaries}`,
    );
  });

  it("refuses a window of less than one turn", () => {
    expect(() => lastTurns(0, { model: scriptedModel([]) })).toThrow(/at least 1/);
    expect(() => lastTurns(1, {} as never)).toThrow(/needs a model/);
  });
});

describe("limits at their edges", () => {
  it(`stops a budget when fewer than ${aiLimits.BUDGET_OUTPUT_TOKENS_MIN} reply tokens are left`, () => {
    const model = scriptedModel([]);
    const request: ModelRequest = { messages: [{ role: "user", content: "x".repeat(400) }] };
    const input = estimateTokens(request);
    const spent = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 };
    const at = input + aiLimits.BUDGET_OUTPUT_TOKENS_MIN;
    const planned = planCall({ tokens: at }, spent, request, model, { ratio: 1 }, "edge");
    expect(planned.maxOutputTokens).toBe(aiLimits.BUDGET_OUTPUT_TOKENS_MIN);
    expect(() => planCall({ tokens: at - 1 }, spent, request, model, { ratio: 1 }, "edge")).toThrow(
      /stopped before a model call that would exceed its budget/,
    );
  });

  it(`aborts a request at the default timeout of ${aiLimits.MODEL_REQUEST_TIMEOUT_MS_DEFAULT} ms`, async () => {
    vi.useFakeTimers();
    let aborted = false;
    const hanging = (_url: string, init: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(init.signal?.reason as Error);
        });
      });
    const model = openaiCompatible({ model: "m", fetch: hanging });
    const outcome = model
      .generate(
        { messages: [{ role: "user", content: "hi" }] },
        {
          signal: new AbortController().signal,
          idempotencyKey: "k",
          attempt: 1,
          callIndex: 0,
        },
      )
      .then(
        () => "answered",
        (e: { code?: string }) => e.code,
      );
    await vi.advanceTimersByTimeAsync(aiLimits.MODEL_REQUEST_TIMEOUT_MS_DEFAULT - 1);
    expect(aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe("model_timeout");
  });

  it(`refuses an MCP server listing more than ${aiLimits.MCP_TOOLS_MAX} tools`, async () => {
    const connect = (count: number) =>
      mcpConnection(`list${count}`, () => {
        const [client, server] = InMemoryTransport.createLinkedPair();
        const s = new Server({ name: "many", version: "1" }, { capabilities: { tools: {} } });
        s.setRequestHandler(ListToolsRequestSchema, () => ({
          tools: Array.from({ length: count }, (_, i) => ({
            name: `t${i}`,
            description: `tool ${i}`,
            inputSchema: { type: "object" as const },
          })),
        }));
        void s.connect(server);
        return client;
      });
    const wf = workflow("many-tools", async (ctx, input: { count: number }) => {
      const conn = connect(input.count);
      try {
        return Object.keys(await mcpTools(ctx, conn)).length;
      } finally {
        await conn.close();
      }
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, { count: aiLimits.MCP_TOOLS_MAX })).result()).toBe(
      aiLimits.MCP_TOOLS_MAX,
    );
    await expect(
      (await engine.start(wf, { count: aiLimits.MCP_TOOLS_MAX + 1 })).result(),
    ).rejects.toThrow(/lists more than 128 tools/);
  });

  it(`reads ${limits.STREAM_READ_LIMIT_DEFAULT} parts per page by default`, async () => {
    const wf = workflow("chatty", async (ctx) => {
      for (let i = 0; i < limits.STREAM_READ_LIMIT_DEFAULT + 10; i++)
        ctx.emit({ type: "data-n", data: i });
      return "ok";
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null);
    await run.result();
    const page = await engine.readStream(run.id);
    expect(page).toHaveLength(limits.STREAM_READ_LIMIT_DEFAULT);
    expect(
      await engine.readStream(run.id, { from: limits.STREAM_READ_LIMIT_DEFAULT }),
    ).toHaveLength(10);
    let n = 0;
    for await (const _ of run.stream()) n++;
    expect(n).toBe(limits.STREAM_READ_LIMIT_DEFAULT + 10);
  });
});
