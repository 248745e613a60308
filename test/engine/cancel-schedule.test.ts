// Proves cancellation cleanup, ttl, event-triggered and scheduled workflows on real SQLite:
// onCancel cleanup runs durably (and again after a restart only where it stopped), a ttl
// ends an overdue run as timed_out, a redelivered event starts nothing new, and one cron
// tick seen by two engines on one store starts exactly one run.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow, type ReceivedEvent } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

describe("cancellation cleanup", () => {
  it("runs onCancel cleanup as durable steps, in reverse order, then ends cancelled", async () => {
    const effects: string[] = [];
    const wf = workflow("booking", async (ctx) => {
      await ctx.step("reserve seat", () => effects.push("reserved"));
      ctx.onCancel(async ({ reason }) => {
        await ctx.step("release seat", () => effects.push(`released (${reason})`));
      });
      await ctx.step("charge card", () => effects.push("charged"));
      ctx.onCancel(async () => {
        await ctx.step("refund card", () => effects.push("refunded"));
      });
      await ctx.waitForEvent("confirmation", { event: "booking.confirmed" });
      return "booked";
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "wait_started"),
    );
    await engine.cancel(run.id, "customer called");
    await expect(run.result()).rejects.toMatchObject({ name: "RunCancelledError" });
    expect(effects).toEqual(["reserved", "charged", "refunded", "released (customer called)"]);
    const types = (await engine.journal(run.id)).map((e) =>
      e.key === null ? e.type : `${e.type} ${e.key}`,
    );
    expect(types.slice(-6)).toEqual([
      "run_cancel_requested",
      "step_attempt_started refund card#1",
      "step_succeeded refund card#1",
      "step_attempt_started release seat#1",
      "step_succeeded release seat#1",
      "run_cancelled",
    ]);
    // The event that arrives later finds no open wait: cancelled waits take nothing.
    expect((await engine.sendEvent({ name: "booking.confirmed" })).woke).toBe(0);
  });

  it("ends a run that outlives its ttl as timed_out, after its cleanup", async () => {
    const clock = createTestClock();
    const cleaned: string[] = [];
    const wf = workflow(
      "quote",
      async (ctx) => {
        ctx.onCancel(async (c) => {
          await ctx.step("withdraw", () => cleaned.push(c.kind));
        });
        await ctx.sleep("wait for the market", "10d");
        return "quoted";
      },
      { ttl: "3d" },
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    const info = await eventually(async () => {
      const r = await engine.getRun(run.id);
      return r?.status === "waiting" ? r : null;
    });
    expect(info.wakeAt?.getTime()).toBe(info.deadlineAt?.getTime());
    await clock.advance("3d");
    await expect(run.result()).rejects.toMatchObject({
      name: "RunTimedOutError",
      code: "run_timed_out",
    });
    expect((await engine.getRun(run.id))?.status).toBe("timed_out");
    expect(cleaned).toEqual(["timed_out"]);
    expect((await engine.journal(run.id)).at(-1)?.type).toBe("run_timed_out");
  });
});

describe("started by events and schedules", () => {
  it("starts one run per event, and nothing for a redelivered event", async () => {
    const seen: string[] = [];
    const onLead = workflow(
      "welcome",
      async (ctx, event: ReceivedEvent<{ email: string }>) =>
        ctx.step("greet", () => seen.push(event.data.email)),
      { on: "lead.created" },
    );
    const engine = await sqliteEngine({ workflows: [onLead], worker: { pollInterval: 10 } });
    await engine.sendEvent({ name: "lead.created", data: { email: "a@x.io" }, id: "lead-1" });
    await engine.sendEvent({ name: "lead.created", data: { email: "b@x.io" }, id: "lead-2" });
    await engine.sendEvent({ name: "lead.created", data: { email: "a@x.io" }, id: "lead-1" });
    await eventually(() => seen.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.sort()).toEqual(["a@x.io", "b@x.io"]);
    const runs = (await engine.listRuns({ workflow: "welcome" })).runs.map((r) => r.id).sort();
    expect(runs).toEqual(["welcome:lead-1", "welcome:lead-2"]);
  });

  it("starts a run triggered by an event a run sends without waiting for a poll", async () => {
    const notify = workflow(
      "notify",
      async (ctx, event: ReceivedEvent<{ order: string }>) =>
        ctx.step("mail", () => `mailed ${event.data.order}`),
      { on: "order.placed" },
    );
    const place = workflow("place", async (ctx) => {
      const sent = await ctx.sendEvent("placed", { name: "order.placed", data: { order: "o-1" } });
      return sent.id;
    });
    // A poll an hour apart: only the event itself can start the triggered run in time.
    const engine = await sqliteEngine({
      workflows: [notify, place],
      worker: { pollInterval: "1h" },
    });
    const eventId = await (await engine.start(place, undefined)).result();
    const run = await eventually(() => engine.getRun(`notify:${eventId}`), 5_000, "the run");
    await eventually(async () => (await engine.getRun(run.id))?.status === "completed", 5_000);
    expect((await engine.getRun(run.id))?.output).toBe("mailed o-1");
  });

  it("looks for no work when an event starts nothing and wakes no run", async () => {
    const onLead = workflow("on-lead", async (ctx) => ctx.step("s", () => 1), {
      on: "lead.created",
    });
    const engine = await sqliteEngine({ workflows: [onLead], worker: { pollInterval: "1h" } });
    const store = (
      engine as unknown as { store: { claim: (...a: unknown[]) => Promise<unknown[]> } }
    ).store;
    let claims = 0;
    const claim = store.claim.bind(store);
    store.claim = (...a) => {
      claims++;
      return claim(...a);
    };
    for (let i = 0; i < 20; i++) await engine.sendEvent({ name: "nobody.listens", data: { i } });
    await new Promise((r) => setTimeout(r, 50));
    expect(claims).toBe(0);
    await engine.sendEvent({ name: "lead.created", data: {}, id: "l-1" });
    await eventually(
      async () => (await engine.getRun("on-lead:l-1"))?.status === "completed",
      5_000,
    );
    expect(claims).toBeGreaterThan(0);
  });

  it("starts exactly one run per cron tick with two engines on one store", async () => {
    const path = join(tempDir(), "cron.db");
    const clock = createTestClock(Date.UTC(2026, 10, 23, 8, 59, 0));
    const ticks: string[] = [];
    const report = workflow(
      "morning-report",
      async (ctx, input: { scheduledAt: Date }) =>
        ctx.step("send", () => ticks.push(input.scheduledAt.toISOString())),
      { schedule: "0 9 * * 1-5", timezone: "UTC" },
    );
    const a = await sqliteEngine({
      path,
      workflows: [report],
      clock,
      worker: { pollInterval: 10 },
    });
    const b = await sqliteEngine({
      path,
      workflows: [report],
      clock,
      worker: { pollInterval: 10 },
    });
    await clock.advance("1m");
    await eventually(
      async () =>
        (await a.listRuns({ workflow: "morning-report", status: "completed" })).runs.length === 1,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(ticks).toEqual(["2026-11-23T09:00:00.000Z"]);
    expect((await b.listRuns({ workflow: "morning-report" })).runs.map((r) => r.id)).toEqual([
      "morning-report@2026-11-23T09:00:00.000Z",
    ]);
  });

  it("refuses a malformed cron expression when the engine is created", async () => {
    const bad = workflow("bad-cron", async () => 1, { schedule: "61 * * * *" });
    const error = await sqliteEngine({ workflows: [bad] }).then(
      () => null,
      (e: Error & { code: string }) => e,
    );
    expect(error?.code).toBe("invalid_argument");
    expect(error?.message).toContain(`workflow 'bad-cron' schedule "61 * * * *" is not valid`);
  });

  it("catches up only the latest tick missed while no engine ran", async () => {
    const path = join(tempDir(), "catchup.db");
    const clock = createTestClock(Date.UTC(2026, 10, 23, 0, 0, 30));
    const hourly = workflow(
      "hourly",
      async (_ctx, input: { scheduledAt: Date }) => input.scheduledAt.toISOString(),
      { schedule: "0 * * * *" },
    );
    const first = await sqliteEngine({ path, workflows: [hourly], clock });
    await first.close();
    await clock.advance("5h");
    const second = await sqliteEngine({ path, workflows: [hourly], clock });
    await eventually(
      async () =>
        (await second.listRuns({ workflow: "hourly", status: "completed" })).runs.length === 1,
    );
    expect((await second.listRuns({ workflow: "hourly" })).runs.map((r) => r.output)).toEqual([
      "2026-11-23T05:00:00.000Z",
    ]);
  });
});
