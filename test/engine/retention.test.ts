// Proves retention on real SQLite with an injected clock: engine.gc deletes runs that ended
// before the retention period and events no live run can consume any more, keeps everything
// else, and records what it deleted in the journal of its own run; a client engine refuses at once.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";

describe("retention", () => {
  it("deletes what is older than the retention period, and nothing else", async () => {
    const clock = createTestClock();
    const quick = workflow("quick", async () => "done");
    const long = workflow("long", async (ctx) => {
      await ctx.waitForEvent("ping", { event: "ping", timeout: "90d" });
      return "pinged";
    });
    const engine = await sqliteEngine({
      workflows: [quick, long],
      clock,
      retention: "30d",
      gcSchedule: null,
    });
    await engine.sendEvent({ name: "ping", id: "before-long" });
    await (await engine.start(quick, undefined, { id: "old-1" })).result();
    await (await engine.start(quick, undefined, { id: "old-2" })).result();
    await engine.start(long, undefined, { id: "still-waiting" });
    await eventually(async () =>
      (await engine.journal("still-waiting")).some((e) => e.type === "wait_started"),
    );
    await engine.sendEvent({ name: "other", id: "spendable" });
    await clock.advance("31d");
    await (await engine.start(quick, undefined, { id: "recent" })).result();

    // "before-long" came before the waiting run started: no live run can consume it. "spendable"
    // came after: the waiting run could still take one like it, so it stays.
    const result = await engine.gc();
    expect(result).toMatchObject({ runs: 2, events: 1 });
    expect(await engine.getRun("old-1")).toBeNull();
    expect(await engine.getRun("old-2")).toBeNull();
    expect((await engine.getRun("recent"))?.status).toBe("completed");
    expect(["running", "waiting"]).toContain((await engine.getRun("still-waiting"))?.status);
    const gcRun = (await engine.listRuns({ workflow: "endure.gc" })).runs[0];
    const deleted = (await engine.journal(gcRun!.id))
      .filter((e) => e.type === "step_succeeded")
      .map((e) => (e.data as { result: unknown }).result);
    expect(deleted[0]).toEqual(["old-1", "old-2"]);

    await engine.sendEvent({ name: "ping", id: "wakes-it" });
    expect(await engine.handle("still-waiting").result()).toBe("pinged");
    await clock.advance("31d");
    const second = await engine.gc();
    // Now no run is live: both remaining events go, with the runs that ended, the first gc's too.
    expect(second.events).toBe(2);
    expect(second.runs).toBe(3);
    expect(await engine.getRun("recent")).toBeNull();
  });
});

describe("scheduled retention", () => {
  it("runs by itself daily at 03:17 UTC", async () => {
    const clock = createTestClock(Date.UTC(2026, 10, 23, 3, 0, 0));
    const quick = workflow("quick", async () => "done");
    const engine = await sqliteEngine({
      workflows: [quick],
      clock,
      retention: "1d",
      gcSchedule: "17 3 * * *",
    });
    await (await engine.start(quick, undefined, { id: "short-lived" })).result();
    await clock.advance("17m");
    await eventually(
      async () =>
        (await engine.listRuns({ workflow: "endure.gc", status: "completed" })).runs.length === 1,
    );
    expect((await engine.getRun("short-lived"))?.status).toBe("completed");
    await clock.advance("1d");
    await eventually(
      async () =>
        (await engine.listRuns({ workflow: "endure.gc", status: "completed" })).runs.length === 2,
    );
    expect(await engine.getRun("short-lived")).toBeNull();
    expect((await engine.listRuns({ workflow: "endure.gc" })).runs.map((r) => r.id)).toEqual([
      "endure.gc@2026-11-24T03:17:00.000Z",
      "endure.gc@2026-11-23T03:17:00.000Z",
    ]);
  });

  it("refuses gc at once on an engine without a worker, and nothing is started", async () => {
    const engine = await sqliteEngine({ worker: false });
    await expect(engine.gc()).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("worker: false") as unknown,
    });
    expect((await engine.listRuns()).runs).toEqual([]);
  });
});
