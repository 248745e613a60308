// Proves events and signals on real SQLite: no lost wake-up for an event sent before the wait
// is reached, idempotent event ids, one event waking many runs but one wait per run, match
// correlation, timeouts through an injected clock, delivery to runs in memory and evicted,
// buffered signals in order, and typed refusals of bad input.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { createEngine, isEndureError, workflow, type ReceivedEvent } from "endure";
import { sqliteStore } from "endure/sqlite";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

const waitingOn = async (engine: Awaited<ReturnType<typeof sqliteEngine>>, runId: string) =>
  eventually(
    async () => (await engine.journal(runId)).some((e) => e.type === "wait_started"),
    10_000,
    `run ${runId} to wait`,
  );

describe("events", () => {
  it("delivers an event sent after the run started but before it reached its wait", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const wf = workflow("late-waiter", async (ctx, input: { order: string }) => {
      await ctx.step("slow", () => gate);
      return ctx.waitForEvent("paid", {
        event: "payment.received",
        match: { "data.order": input.order },
      });
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, { order: "o-1" });
    const sent = await engine.sendEvent({
      name: "payment.received",
      data: { order: "o-1", amount: 30 },
      id: "pay-1",
    });
    expect(sent).toEqual({ id: "pay-1", created: true, woke: 0 });
    release();
    const event = (await run.result()) as ReceivedEvent<{ order: string; amount: number }>;
    expect(event.id).toBe("pay-1");
    expect(event.data).toEqual({ order: "o-1", amount: 30 });
    expect(event.receivedAt).toBeInstanceOf(Date);
  });

  it("does not deliver an event that arrived before the run started", async () => {
    const clock = createTestClock();
    const wf = workflow("too-late", async (ctx) =>
      ctx.waitForEvent("ping", { event: "ping", timeout: "1h" }),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    await engine.sendEvent({ name: "ping", id: "early" });
    const run = await engine.start(wf, undefined);
    await waitingOn(engine, run.id);
    await clock.advance("1h");
    expect(await run.result()).toBeNull();
  });

  it("stores and delivers the same event id once, and one wait consumes one event", async () => {
    const wf = workflow("two-pings", async (ctx) => {
      const a = await ctx.waitForEvent("first", { event: "ping" });
      const b = await ctx.waitForEvent("second", { event: "ping", timeout: "1s" });
      return [a?.id, b?.id ?? null];
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await waitingOn(engine, run.id);
    expect((await engine.sendEvent({ name: "ping", id: "p-1" })).woke).toBe(1);
    expect(await engine.sendEvent({ name: "ping", id: "p-1" })).toEqual({
      id: "p-1",
      created: false,
      woke: 0,
    });
    expect(await run.result()).toEqual(["p-1", null]);
  });

  it("wakes every run whose wait matches, and only those", async () => {
    const wf = workflow("per-thread", async (ctx, input: { thread: string }) => {
      const reply = await ctx.waitForEvent("reply", {
        event: "email.replied",
        match: { "data.thread": input.thread },
      });
      return reply?.data;
    });
    const engine = await sqliteEngine({ workflows: [wf], worker: { inMemoryWait: 10 } });
    const a1 = await engine.start(wf, { thread: "a" });
    const a2 = await engine.start(wf, { thread: "a" });
    const b = await engine.start(wf, { thread: "b" });
    for (const r of [a1, a2, b]) await waitingOn(engine, r.id);
    // Let them leave memory: delivery then goes through the store and a new claim.
    await eventually(async () => (await engine.listRuns({ status: "waiting" })).runs.length === 3);
    const sent = await engine.sendEvent({
      name: "email.replied",
      data: { thread: "a", text: "yes" },
    });
    expect(sent.woke).toBe(2);
    expect(await a1.result()).toEqual({ thread: "a", text: "yes" });
    expect(await a2.result()).toEqual({ thread: "a", text: "yes" });
    expect((await engine.getRun(b.id))?.status).toBe("waiting");
  });

  it("keeps a resumed run in memory while it reads whether its wait ended", async () => {
    // A read slower than inMemoryWait: the run must not be put back to sleep before the read
    // says its wait ended (it would be made runnable again at once, over and over).
    const store = sqliteStore(join(tempDir(), "endure.db"), { durability: "process" });
    const getWait = store.getWait.bind(store);
    store.getWait = async (runId, position) => {
      await new Promise((r) => setTimeout(r, 50));
      return getWait(runId, position);
    };
    const wf = workflow("slow-read", async (ctx) => {
      const go = await ctx.waitForEvent("go", { event: "slow.go", timeout: "1h" });
      return go?.data;
    });
    const engine = await createEngine({
      store,
      workflows: [wf],
      logger: { warn: () => {} },
      gcSchedule: null,
      worker: { inMemoryWait: 1 },
    });
    try {
      const run = await engine.start(wf, undefined);
      await eventually(async () => (await engine.getRun(run.id))?.status === "waiting");
      await engine.sendEvent({ name: "slow.go", data: { n: 1 } });
      expect(await run.result()).toEqual({ n: 1 });
      const types = (await engine.journal(run.id)).map((e) => e.type);
      expect(types.filter((t) => t === "run_suspended")).toHaveLength(1);
      expect(types.filter((t) => t === "run_resumed")).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });

  it("times out after 30 days (the default) in an instant through the injected clock", async () => {
    const clock = createTestClock();
    const wf = workflow("patient", async (ctx) =>
      ctx.waitForEvent("never", { event: "never.sent" }),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    await waitingOn(engine, run.id);
    const started = (await engine.journal(run.id)).find((e) => e.type === "wait_started");
    expect((started?.data as { timeoutAt: number }).timeoutAt - started!.at.getTime()).toBe(
      30 * 86_400_000,
    );
    await clock.advance("29d");
    // Still waiting (in memory for a few seconds, then evicted).
    expect(["running", "waiting"]).toContain((await engine.getRun(run.id))?.status);
    expect((await engine.journal(run.id)).some((e) => e.type === "wait_completed")).toBe(false);
    await clock.advance("1d");
    expect(await run.result()).toBeNull();
    const completed = (await engine.journal(run.id)).find((e) => e.type === "wait_completed");
    expect(completed?.data).toEqual({ status: "timed_out", result: null });
  });

  it("applies a policy ladder to an event wait: remind, then resolve with a default", async () => {
    const clock = createTestClock();
    const wf = workflow("with-policy", async (ctx) =>
      ctx.waitForEvent("quote", {
        event: "quote.received",
        timeout: "10d",
        policy: [
          { after: "1d", action: "remind" },
          { after: "2d", action: "resolve", value: { price: "list" } },
        ],
      }),
    );
    const reminders: unknown[] = [];
    const listener = workflow(
      "listener",
      async (ctx, e: ReceivedEvent<{ wait: string; kind: string }>) =>
        ctx.step("note", () => reminders.push(e.data.wait)),
      { on: "endure.wait.reminder" },
    );
    const engine = await sqliteEngine({
      workflows: [wf, listener],
      clock,
      worker: { pollInterval: 10 },
    });
    const run = await engine.start(wf, undefined);
    await waitingOn(engine, run.id);
    await clock.advance("1d");
    await eventually(() => reminders.length === 1);
    expect(reminders).toEqual(["quote#1"]);
    await clock.advance("1d");
    const result = (await run.result()) as ReceivedEvent<{ price: string }>;
    expect(result.data).toEqual({ price: "list" });
    expect(result.name).toBe("quote.received");
    const types = (await engine.journal(run.id))
      .map((e) => e.type)
      .filter((t) => t.startsWith("wait_"));
    expect(types).toEqual(["wait_started", "wait_reminded", "wait_completed"]);
    expect(
      (await engine.journal(run.id)).find((e) => e.type === "wait_completed")?.data,
    ).toMatchObject({ status: "resolved" });
  });

  it("refuses a match that can never be evaluated when the wait is created", async () => {
    const wf = workflow("bad-match", async (ctx, input: { path: string }) =>
      ctx.waitForEvent("x", { event: "thing", match: { [input.path]: 1 } }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    for (const path of ["order", "data.", "data.items[0]", "payload.id"]) {
      const error = await (await engine.start(wf, { path })).result().then(
        () => null,
        (e: Error) => e,
      );
      expect(isEndureError(error, "invalid_argument")).toBe(true);
      expect(error?.message).toContain(`match path '${path}' can never be evaluated`);
    }
  });

  it("refuses events without a name, with unserializable data, or over the size limit", async () => {
    const engine = await sqliteEngine({ limits: { payloadBytesMax: 100 } });
    const refusal = async (event: unknown) =>
      engine.sendEvent(event as never).then(
        () => null,
        (e: Error & { code: string }) => e.code,
      );
    expect(await refusal({ data: 1 })).toBe("invalid_argument");
    expect(await refusal({ name: "", data: 1 })).toBe("invalid_argument");
    expect(await refusal({ name: "x", data: { f: () => 1 } })).toBe("value_not_serializable");
    expect(await refusal({ name: "x", data: "y".repeat(200) })).toBe("payload_too_large");
  });
});

describe("signals", () => {
  it("buffers signals in order until the run reads them", async () => {
    const wf = workflow("inbox", async (ctx) => {
      await ctx.sleep("settle", 50);
      const got: unknown[] = [];
      for (let i = 0; i < 3; i++) got.push((await ctx.waitForSignal("note"))?.data);
      return got;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await engine.signal(run.id, "note", "one");
    await engine.signal(run.id, "note", { n: 2 });
    await engine.signal(run.id, "other", "ignored");
    await waitingOn(engine, run.id);
    await engine.signal(run.id, "note", 3);
    expect(await run.result()).toEqual(["one", { n: 2 }, 3]);
  });

  it("refuses a signal to a finished or unknown run", async () => {
    const wf = workflow("done", async () => "ok");
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await run.result();
    const finished = await engine.signal(run.id, "late", 1).then(
      () => null,
      (e: Error & { code: string }) => e,
    );
    expect(finished?.code).toBe("run_finished");
    expect(finished?.message).toContain("it has ended (completed)");
    expect(
      await engine.signal("nope", "x").then(
        () => null,
        (e: Error & { code: string }) => e.code,
      ),
    ).toBe("run_not_found");
  });
});
