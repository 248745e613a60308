// Proves a run's output stream and usage totals on a real SQLite file: parts from workflow code
// and step bodies read back in order by offset, a follower yields each part once and ends with
// the run, a replay after eviction writes no part twice, metered steps add up in getRun, and
// bad parts and bad reads get typed errors at their limits.
import { describe, expect, it } from "vitest";
import {
  isEndureError,
  limits,
  workflow,
  type StreamChunk,
  type StreamPart,
  type WorkflowContext,
} from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const types = (chunks: StreamChunk[]) => chunks.map((c) => c.part.type);

describe("output stream", () => {
  it("keeps parts from workflow code and step bodies in order, read by page or followed", async () => {
    const wf = workflow("talk", async (ctx) => {
      ctx.emit({ type: "start", messageId: ctx.runId });
      const n = await ctx.step("count", ({ emit }) => {
        for (let i = 0; i < 3; i++) emit({ type: "data-tick", data: i });
        return 3;
      });
      ctx.emit({ type: "finish" });
      return n;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null, { id: "talk-1" });
    expect(await run.result()).toBe(3);
    const all = await engine.readStream(run.id);
    expect(all.map((c) => c.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(types(all)).toEqual(["start", "data-tick", "data-tick", "data-tick", "finish"]);
    expect(all[1]?.part).toEqual({ type: "data-tick", data: 0 });
    expect(all[0]?.at).toBeInstanceOf(Date);
    expect((await engine.readStream(run.id, { from: 2, limit: 2 })).map((c) => c.offset)).toEqual([
      2, 3,
    ]);
    expect(await engine.readStream(run.id, { from: 5 })).toEqual([]);
    // A finished run's stream is read to its end, from anywhere, and the iteration ends.
    expect((await collect(run.stream({ from: 3 }))).map((c) => c.offset)).toEqual([3, 4]);
    expect(await collect(engine.handle(run.id).stream())).toHaveLength(5);
  });

  it("follows a live run: a reader attached before any part gets each one once, in order", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const wf = workflow("live", async (ctx) => {
      for (let i = 0; i < 5; i++) {
        await ctx.step("tick", async ({ emit }) => {
          if (i === 2) await gate;
          emit({ type: "data-tick", data: i });
        });
      }
      return "ok";
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null, { id: "live-1" });
    const seen: number[] = [];
    const reader = (async () => {
      for await (const { part } of run.stream()) {
        seen.push(part["data"] as number);
        if (seen.length === 2) release();
      }
    })();
    await reader;
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await run.result()).toBe("ok");
  });

  it("writes no part twice when a replay passes the code that emitted it again", async () => {
    const clock = createTestClock();
    let bodies = 0;
    const wf = workflow("replayed", async (ctx) => {
      ctx.emit({ type: "data-phase", data: "before" });
      await ctx.step("work", ({ emit }) => {
        bodies++;
        emit({ type: "data-work", data: bodies });
      });
      await ctx.sleep("nap", "1h");
      ctx.emit({ type: "data-phase", data: "after" });
      return "done";
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null, { id: "replayed-1" });
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toBe("done");
    expect((await engine.journal(run.id)).some((e) => e.type === "run_resumed")).toBe(true);
    expect(bodies).toBe(1);
    const parts = (await engine.readStream(run.id)).map((c) => c.part);
    expect(parts).toEqual([
      { type: "data-phase", data: "before" },
      { type: "data-work", data: 1 },
      { type: "data-phase", data: "after" },
    ]);
  });

  it("sums the usage of metered steps per run, once, and shows it in getRun", async () => {
    const clock = createTestClock();
    const call = (ctx: WorkflowContext, tokens: number) =>
      ctx.step("model", () => ({ tokens }), {
        usage: (r) => ({ inputTokens: r.tokens, outputTokens: 2, costUsd: r.tokens / 1000 }),
      });
    const wf = workflow("metered", async (ctx) => {
      await call(ctx, 100);
      await ctx.step("plain", () => 1);
      await ctx.sleep("nap", "1h");
      await call(ctx, 50);
      return "ok";
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null, { id: "metered-1" });
    await eventually(async () => (await run.info()).status === "waiting");
    expect((await run.info()).usage).toEqual({
      inputTokens: 100,
      outputTokens: 2,
      costUsd: 0.1,
      calls: 1,
    });
    await clock.advance("1h");
    await run.result();
    const info = await engine.getRun(run.id);
    expect(info?.usage.inputTokens).toBe(150);
    expect(info?.usage.outputTokens).toBe(4);
    expect(info?.usage.costUsd).toBeCloseTo(0.15, 10);
    expect(info?.usage.calls).toBe(2);
    const metered = (await engine.journal(run.id)).filter(
      (e) => e.type === "step_succeeded" && e.key?.startsWith("model"),
    );
    expect(metered.map((e) => (e.data as { usage: unknown }).usage)).toEqual([
      { inputTokens: 100, outputTokens: 2, costUsd: 0.1 },
      { inputTokens: 50, outputTokens: 2, costUsd: 0.05 },
    ]);
  });

  it("counts nothing for a usage function that throws or answers nonsense, and warns", async () => {
    const warnings: string[] = [];
    const wf = workflow("bad-meter", async (ctx) => {
      await ctx.step("a", () => 1, {
        usage: () => {
          throw new Error("meter broke");
        },
      });
      await ctx.step("b", () => 1, { usage: () => ({ inputTokens: -1 }) });
      return "ok";
    });
    const engine = await sqliteEngine({
      workflows: [wf],
      logger: { warn: (m) => warnings.push(m) },
    });
    const run = await engine.start(wf, null);
    expect(await run.result()).toBe("ok");
    expect((await run.info()).usage.calls).toBe(0);
    expect(warnings.some((w) => w.includes("usage() threw (meter broke)"))).toBe(true);
    expect(warnings.some((w) => w.includes('returned {"inputTokens":-1}'))).toBe(true);
  });

  it("refuses parts without a type and parts over the size limit, accepting one at it", async () => {
    const overhead = JSON.stringify({ type: "data-x", data: "" }).length;
    const atLimit = "a".repeat(limits.STREAM_PART_BYTES_MAX - overhead);
    const wf = workflow("bad-parts", async (ctx, input: { part: unknown }) => {
      try {
        ctx.emit(input.part as StreamPart);
        return "emitted";
      } catch (e) {
        return isEndureError(e) ? e.code : "other";
      }
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const outcome = async (part: unknown) => (await engine.start(wf, { part })).result();
    expect(await outcome({ data: 1 })).toBe("invalid_argument");
    expect(await outcome({ type: "" })).toBe("invalid_argument");
    expect(await outcome("text")).toBe("invalid_argument");
    expect(await outcome({ type: "data-x", data: atLimit })).toBe("emitted");
    expect(await outcome({ type: "data-x", data: `${atLimit}a` })).toBe("payload_too_large");
  });

  it("refuses bad reads and reads of unknown runs with typed errors", async () => {
    const wf = workflow("quiet", async () => "ok");
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null);
    await run.result();
    expect(await engine.readStream(run.id, { limit: limits.STREAM_READ_LIMIT_MAX })).toEqual([]);
    await expect(
      engine.readStream(run.id, { limit: limits.STREAM_READ_LIMIT_MAX + 1 }),
    ).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(engine.readStream(run.id, { limit: 0 })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(engine.readStream(run.id, { from: -1 })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(engine.readStream("nope")).rejects.toMatchObject({ code: "run_not_found" });
    await expect(collect(engine.handle("nope").stream())).rejects.toMatchObject({
      code: "run_not_found",
    });
    expect(() => run.stream({ from: 1.5 })).toThrow(/whole number/);
  });
});
