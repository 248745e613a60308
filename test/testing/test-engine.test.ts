// Proves createTestEngine runs workflows as production does on a real temporary SQLite file
// while time is virtual: a 7-day sleep and a retry backoff of an hour end at once, a long wait
// evicts the run and resumes it by replay, events and approval decisions reach their waits,
// advance() steps time by hand, and close() deletes the temporary store.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestEngine, type TestEngine } from "endure/testing";
import { onCleanup } from "../helpers.js";

async function testEngine(...args: Parameters<typeof createTestEngine>): Promise<TestEngine> {
  const t = await createTestEngine(...args);
  onCleanup(() => t.close());
  return t;
}

describe("createTestEngine", () => {
  it("lets a 7-day sleep pass at once, the run evicted while it sleeps and replayed after", async () => {
    let bodies = 0;
    const reminder = workflow("reminder", async (ctx, input: { to: string }) => {
      await ctx.step("schedule", () => bodies++);
      await ctx.sleep("a week", "7d");
      await ctx.step("remind", () => bodies++);
      return `reminded ${input.to}`;
    });
    const t = await testEngine({ workflows: [reminder] });
    const start = t.clock.now();
    const run = await t.start(reminder, { to: "ana" });
    expect(await t.runToEnd(run)).toBe("reminded ana");
    expect(t.clock.now() - start).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(bodies).toBe(2);
    const types = (await t.journal(run.id)).map((e) => e.type);
    expect(types).toContain("run_suspended");
    expect(types.at(-1)).toBe("run_completed");
  });

  it("lets retry backoffs pass at once", async () => {
    let attempts = 0;
    const flaky = workflow("flaky", async (ctx) =>
      ctx.step(
        "call",
        () => {
          if (++attempts < 3) throw new Error("not yet");
          return attempts;
        },
        { retries: 5, backoff: { initial: "1h", max: "1h" } },
      ),
    );
    const t = await testEngine({ workflows: [flaky] });
    expect(await t.runToEnd(await t.start(flaky, undefined))).toBe(3);
  });

  it("delivers events and decisions, and times out a wait nobody answers", async () => {
    const flow = workflow("flow", async (ctx) => {
      const reply = await ctx.waitForEvent("reply", {
        event: "email.replied",
        match: { "data.thread": "t-1" },
        timeout: "3d",
      });
      const ok = await ctx.approval("send", { title: "Send it?", timeout: "2d" });
      const late = await ctx.waitForSignal("late", { timeout: "1d" });
      return { reply: reply?.data, approved: ok.approved, late };
    });
    const t = await testEngine({ workflows: [flow] });
    const run = await t.start(flow, undefined);
    await t.event("email.replied", { thread: "t-1", text: "yes" });
    expect(await t.decide(run.id, "send", true, { by: "maria" })).toBe("settled");
    expect(await t.runToEnd(run)).toEqual({
      reply: { thread: "t-1", text: "yes" },
      approved: true,
      late: null,
    });
  });

  it("moves time only when told, with advance()", async () => {
    const nap = workflow("nap", async (ctx) => {
      await ctx.sleep("nap", "2h");
      return "awake";
    });
    const t = await testEngine({ workflows: [nap] });
    const run = await t.start(nap, undefined);
    await new Promise((r) => setTimeout(r, 100));
    await t.advance("1h");
    expect((await run.info()).status).not.toBe("completed");
    await t.advance("1h");
    expect(await run.result()).toBe("awake");
  });

  it("deletes its temporary store on close, and keeps warnings", async () => {
    const t = await createTestEngine({ workflows: [] });
    const dir = t.directory!;
    expect(existsSync(dir)).toBe(true);
    expect(t.warnings).toEqual([]);
    await t.close();
    expect(existsSync(dir)).toBe(false);
  });
});
