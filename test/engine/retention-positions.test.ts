// Proves, on real SQLite and real PostgreSQL, that retention never makes an event invisible:
// after gc deletes every event, new events get positions past every deleted one, so `on`
// triggers and buffered waits whose cursor passed the old positions still see them; and that
// the dedup window of event ids is the retention period, as documented.
import { describe, expect, it } from "vitest";
import { limits, workflow, type Engine, type EngineOptions, type ReceivedEvent } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";
import { postgresEngine } from "../support/postgres.js";

type Make = (options: Omit<EngineOptions, "store">) => Promise<Engine>;
const stores: Array<[string, Make]> = [
  ["sqlite", (o) => sqliteEngine(o)],
  ["postgres", (o) => postgresEngine({ gcSchedule: null, ...o })],
];

describe.each(stores)("event positions across retention on %s", (_store, make) => {
  it("delivers events sent after gc emptied the events table to triggers and waits", async () => {
    const clock = createTestClock();
    const seen: string[] = [];
    const greet = workflow(
      "greet",
      async (ctx, e: ReceivedEvent<{ who: string }>) =>
        ctx.step("note", () => seen.push(e.data.who)),
      { on: "signup" },
    );
    const waiter = workflow("waiter", async (ctx) => {
      const e = await ctx.waitForEvent("reply", { event: "reply", timeout: "90d" });
      return e === null ? "timed out" : (e.data as string);
    });
    const engine = await make({
      workflows: [greet, waiter],
      clock,
      retention: "30d",
      worker: { pollInterval: 10 },
    });
    for (const id of ["r1", "r2"]) await engine.sendEvent({ name: "reply", id, data: id });
    for (const who of ["a", "b", "c"]) await engine.sendEvent({ name: "signup", data: { who } });
    await eventually(() => seen.length === 3, 10_000, "three triggered runs");
    await eventually(
      async () => (await engine.listRuns({ status: "completed" })).runs.length === 3,
    );
    await clock.advance("31d");
    // Started after the five events: its wait skips them (they came before it began).
    const run = await engine.start(waiter, undefined, { id: "late-waiter" });
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "wait_started"),
    );
    const gc = await engine.gc();
    expect(gc.events).toBe(5);

    expect((await engine.sendEvent({ name: "signup", data: { who: "d" } })).created).toBe(true);
    await eventually(() => seen.includes("d"), 10_000, "the trigger to see an event after gc");
    expect((await engine.sendEvent({ name: "reply", id: "r3", data: "after gc" })).created).toBe(
      true,
    );
    expect(await run.result()).toBe("after gc");
  });

  it("deduplicates an event id for the retention period, then accepts it again", async () => {
    const clock = createTestClock();
    const engine = await make({ workflows: [], clock, retention: "30d" });
    expect(limits.EVENT_DEDUP_MS_DEFAULT).toBe(limits.RETENTION_MS_DEFAULT);
    expect((await engine.sendEvent({ name: "paid", id: "inv-1" })).created).toBe(true);
    await clock.advance("29d");
    await engine.gc();
    expect((await engine.sendEvent({ name: "paid", id: "inv-1" })).created).toBe(false);
    await clock.advance("2d");
    expect((await engine.gc()).events).toBe(1);
    expect((await engine.sendEvent({ name: "paid", id: "inv-1" })).created).toBe(true);
  });
});
