// Proves a run waiting on the world (a signal, an event) leaves memory as the engine's clock
// says, on real SQLite: under the virtual test clock, advancing past the in-memory wait evicts
// it (journaled as run_suspended), and a signal then resumes it by replay.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";

describe("eviction under the test clock", () => {
  it("evicts a run waiting for a signal once the clock passes the in-memory wait", async () => {
    const clock = createTestClock();
    const wf = workflow("await-signal", async (ctx) => {
      const s = await ctx.waitForSignal("go", { timeout: "30d" });
      return s === null ? "timed out" : s.data;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock, worker: { inMemoryWait: "1h" } });
    const run = await engine.start(wf, undefined);
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "wait_started"),
    );
    // Time passes in steps, as it does in production: the run leaves memory an hour after
    // it began to wait, whenever that was on this clock.
    await eventually(
      async () => {
        await clock.advance("30m");
        return (await engine.getRun(run.id))?.status === "waiting";
      },
      10_000,
      "the run to be evicted",
    );
    expect((await engine.journal(run.id)).some((e) => e.type === "run_suspended")).toBe(true);
    await engine.signal(run.id, "go", "went");
    expect(await run.result()).toBe("went");
  });
});
