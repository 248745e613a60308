// Proves durable sleep and replay on a real SQLite file with an injected clock: a 7-day sleep
// evicts the run and completes instantly; recorded now/random/uuid and step results replay
// identically across engines; the first run already sees values as replay will.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

describe("durable sleep", () => {
  it("sleeps 7 days through an injected clock: evicted while waiting, resumed by replay", async () => {
    const clock = createTestClock();
    let bodies = 0;
    const wf = workflow("weekly", async (ctx) => {
      const before = await ctx.step("before", () => {
        bodies++;
        return ctx.runId;
      });
      await ctx.sleep("week", "7d");
      const after = await ctx.step("after", () => {
        bodies++;
        return "done";
      });
      return `${before}:${after}`;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const start = clock.now();
    const run = await engine.start(wf, undefined, { id: "w1" });
    const waiting = await eventually(async () => {
      const info = await engine.getRun(run.id);
      return info?.status === "waiting" ? info : null;
    });
    expect(waiting.wakeAt?.getTime()).toBe(start + 7 * 86_400_000);
    await clock.advance("6d");
    expect((await engine.getRun(run.id))?.status).toBe("waiting");
    await clock.advance("1d");
    expect(await run.result()).toBe("w1:done");
    expect(bodies).toBe(2);
    const journal = await engine.journal(run.id);
    expect(journal.map((e) => e.type)).toEqual([
      "run_started",
      "step_attempt_started",
      "step_succeeded",
      "sleep_started",
      "run_suspended",
      "run_resumed",
      "sleep_completed",
      "step_attempt_started",
      "step_succeeded",
      "run_completed",
    ]);
    expect(journal.find((e) => e.type === "sleep_completed")!.at.getTime()).toBe(
      start + 7 * 86_400_000,
    );
  });

  it("keeps a short sleep in memory and sleeps until a date", async () => {
    const clock = createTestClock();
    const wf = workflow("short", async (ctx) => {
      await ctx.sleep("blink", "2s");
      await ctx.sleepUntil("deadline", new Date(ctx.now() + 1_000));
      return ctx.now();
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const start = clock.now();
    const run = await engine.start(wf, undefined);
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "sleep_started"),
    );
    await clock.advance("2s");
    await eventually(
      async () =>
        (await engine.journal(run.id)).filter((e) => e.type === "sleep_started").length === 2,
    );
    await clock.advance("1s");
    expect(await run.result()).toBe(start + 3_000);
    expect((await engine.journal(run.id)).some((e) => e.type === "run_suspended")).toBe(false);
  });

  it("refuses a malformed duration", async () => {
    const wf = workflow("baddur", async (ctx) => ctx.sleep("nap", "forever"));
    const engine = await sqliteEngine({ workflows: [wf] });
    await expect((await engine.start(wf, undefined)).result()).rejects.toThrow(
      /sleep 'nap' duration "forever" is not a duration/,
    );
  });
});

describe("replay", () => {
  it("returns journaled values after a restart: steps are not re-run, now/random/uuid repeat", async () => {
    const path = join(tempDir(), "replay.db");
    const clock = createTestClock();
    const bodies: string[] = [];
    const seen: unknown[] = [];
    const wf = workflow("values", async (ctx) => {
      const values = { now: ctx.now(), random: ctx.random(), uuid: ctx.uuid() };
      const stamped = await ctx.step("stamp", () => {
        bodies.push("stamp");
        return { at: new Date(values.now), tags: new Set(["a"]) };
      });
      // The first run sees a Date, exactly as a replay will.
      seen.push(stamped.at instanceof Date, stamped.tags instanceof Set);
      await ctx.sleep("pause", "1h");
      return { ...values, at: stamped.at.toISOString() };
    });
    const first = await sqliteEngine({ path, workflows: [wf], clock });
    const run = await first.start(wf, undefined, { id: "v1" });
    await eventually(async () => (await first.getRun(run.id))?.status === "waiting");
    await first.close();
    const second = await sqliteEngine({ path, workflows: [wf], clock });
    await clock.advance("1h");
    const result = await second
      .handle<{ now: number; random: number; uuid: string; at: string }>("v1")
      .result();
    expect(bodies).toEqual(["stamp"]);
    expect(seen).toEqual([true, true, true, true]);
    const recorded = (await second.journal("v1"))
      .filter((e) => e.type === "value_recorded")
      .map((e) => e.data);
    expect(recorded).toEqual([result.now, result.random, result.uuid]);
    expect(result.at).toBe(new Date(result.now).toISOString());
  });

  it("hands a run back on close and lets another engine finish it without re-running steps", async () => {
    const path = join(tempDir(), "handback.db");
    const counts = new Map<string, number>();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const wf = workflow("handback", async (ctx) => {
      const a = await ctx.step("a", () => {
        counts.set("a", (counts.get("a") ?? 0) + 1);
        return 1;
      });
      const b = await ctx.step("b", async () => {
        counts.set("b", (counts.get("b") ?? 0) + 1);
        await gate;
        return 2;
      });
      return a + b;
    });
    const first = await sqliteEngine({ path, workflows: [wf] });
    await first.start(wf, undefined, { id: "hb" });
    await eventually(() => counts.get("b") === 1);
    const closing = first.close();
    release();
    await closing;
    expect(
      (await (await sqliteEngine({ path, workflows: [], worker: false })).getRun("hb"))?.status,
    ).toBe("pending");
    const second = await sqliteEngine({ path, workflows: [wf] });
    expect(await second.handle("hb").result()).toBe(3);
    expect(counts.get("a")).toBe(1);
    // Step b finished during the graceful close, so its result was committed, not re-run.
    expect(counts.get("b")).toBe(1);
  });
});
