// Payload upcasters: a step result or an event's data journaled at an older shape reaches the
// new code in the new shape when the run is replayed, through the upcasters the workflow (or
// the event's definition) declares; the journal keeps the value as recorded with its shape's
// version beside it. An upcaster that throws pauses the run and writes nothing else.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createEngine,
  defineEvent,
  isEndureError,
  RunPausedError,
  workflow,
  type Engine,
  type PayloadShape,
  type Workflow,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { replayJournal } from "endure/testing";
import { eventually, onCleanup, tempDir } from "../helpers.js";

let bodies: string[] = [];

type Out = { lead: string; steps: string[]; cents: number };

/** Version 1 of the code: "plan" returns a string and the payment's data is `{ amount }` in
 * euros. Version 2: "plan" returns `{ steps }` and the data is `{ cents }`. */
function leads(shapes: {
  plan?: PayloadShape;
  paid?: PayloadShape;
  v2: boolean;
}): Workflow<{ id: string }, Out> {
  const paid = defineEvent<{ amount?: number; cents?: number; id: string }>("order.paid", {
    fields: ["id", "amount", "cents"],
    ...(shapes.paid ?? {}),
  });
  return workflow(
    "leads",
    async (ctx, input: { id: string }) => {
      const plan = await ctx.step("plan", () => {
        bodies.push(`${input.id}:plan`);
        return shapes.v2 ? { steps: ["search", "draft"] } : "search";
      });
      const payment = await ctx.waitForEvent("paid", {
        event: paid,
        match: { "data.id": input.id },
        timeout: "1h",
      });
      await ctx.waitForEvent("go", { event: "go", match: { "data.id": input.id }, timeout: "1h" });
      const lead = await ctx.step("write", () => {
        bodies.push(`${input.id}:write`);
        return `lead ${input.id}`;
      });
      if (!shapes.v2) return { lead, steps: [plan as unknown as string], cents: 0 };
      return {
        lead,
        steps: (plan as { steps: string[] }).steps,
        cents: payment?.data.cents ?? -1,
      };
    },
    shapes.plan === undefined ? {} : { results: { plan: shapes.plan } },
  );
}

const PLAN_V2: PayloadShape = { version: 2, upcast: { 1: (old: string) => ({ steps: [old] }) } };
const PAID_V2: PayloadShape = {
  version: 2,
  upcast: { 1: (old: { id: string; amount: number }) => ({ id: old.id, cents: old.amount * 100 }) },
};

async function engineOn(path: string, wf: Workflow<{ id: string }, Out>): Promise<Engine> {
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [wf],
    logger: { warn: () => {} },
    gcSchedule: null,
    worker: { inMemoryWait: "0s", pollInterval: "20ms" },
  });
  onCleanup(() => engine.close());
  return engine;
}

/** Starts run `id` on the old code and leaves it waiting for "go" (its payment received). */
async function oldRunWaiting(path: string, id: string): Promise<void> {
  const old = await engineOn(path, leads({ v2: false }));
  await old.start("leads", { id }, { id });
  await eventually(async () => (await old.getRun(id))?.status === "waiting");
  await old.sendEvent({ name: "order.paid", data: { id, amount: 12 } });
  await eventually(async () =>
    (await old.journal(id)).some((e) => e.type === "wait_started" && e.key === "go#1"),
  );
  await eventually(async () => (await old.getRun(id))?.status === "waiting");
  await old.close();
}

describe("payload upcasters", () => {
  it("turn an old step result and an old event's data into the new shapes on replay", async () => {
    bodies = [];
    const path = join(tempDir(), "endure.db");
    await oldRunWaiting(path, "old-1");

    const engine = await engineOn(path, leads({ v2: true, plan: PLAN_V2, paid: PAID_V2 }));
    await engine.sendEvent({ name: "go", data: { id: "old-1" } });
    expect(await engine.handle("old-1").result()).toEqual({
      lead: "lead old-1",
      steps: ["search"],
      cents: 1200,
    });
    // The replay answered "plan" from the journal: its body ran once, on the old code.
    expect(bodies.filter((b) => b === "old-1:plan")).toHaveLength(1);
    // The journal still holds the value as recorded, at the initial shape (no version).
    const journal = await engine.journal("old-1");
    const plan = journal.find((e) => e.type === "step_succeeded" && e.key === "plan#1");
    expect(plan?.data).toMatchObject({ result: "search" });
    expect(plan?.data).not.toHaveProperty("shape");
  });

  it("journal a new value with its shape's version, and hand it over as it is on replay", async () => {
    bodies = [];
    const path = join(tempDir(), "endure.db");
    const engine = await engineOn(path, leads({ v2: true, plan: PLAN_V2, paid: PAID_V2 }));
    await engine.start("leads", { id: "new-1" }, { id: "new-1" });
    await eventually(async () => (await engine.getRun("new-1"))?.status === "waiting");
    await engine.sendEvent({ name: "order.paid", data: { id: "new-1", cents: 500 } });
    await eventually(async () =>
      (await engine.journal("new-1")).some((e) => e.type === "wait_started" && e.key === "go#1"),
    );
    await eventually(async () => (await engine.getRun("new-1"))?.status === "waiting");
    await engine.close();

    // A later deploy that still declares version 2 replays the run's values unchanged.
    const next = await engineOn(path, leads({ v2: true, plan: PLAN_V2, paid: PAID_V2 }));
    await next.sendEvent({ name: "go", data: { id: "new-1" } });
    expect(await next.handle("new-1").result()).toEqual({
      lead: "lead new-1",
      steps: ["search", "draft"],
      cents: 500,
    });
    const journal = await next.journal("new-1");
    expect(journal.find((e) => e.key === "plan#1" && e.type === "step_succeeded")?.data).toEqual({
      attempt: 1,
      shape: 2,
      result: { steps: ["search", "draft"] },
    });
    const paid = journal.find((e) => e.key === "paid#1" && e.type === "wait_completed");
    expect(paid?.data).toMatchObject({ status: "satisfied", shape: 2 });
  });

  it("pause the run when an upcaster throws, writing nothing; a fixed one takes it back", async () => {
    bodies = [];
    const path = join(tempDir(), "endure.db");
    await oldRunWaiting(path, "old-2");

    const broken: PayloadShape = {
      version: 2,
      upcast: {
        1: () => {
          throw new Error("no steps in an old plan");
        },
      },
    };
    const engine = await engineOn(path, leads({ v2: true, plan: broken, paid: PAID_V2 }));
    const before = await engine.journal("old-2");
    await engine.sendEvent({ name: "go", data: { id: "old-2" } });
    const error = await engine
      .handle("old-2")
      .result()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPausedError);
    expect((error as RunPausedError).reason).toBe("upcast_failed");
    expect((error as Error).message).toContain(
      "the upcaster of the result of step 'plan#1' of run old-2 from shape version 1 threw: no steps in an old plan",
    );
    const after = await engine.journal("old-2");
    const added = after.slice(before.length).map((e) => e.type);
    // Only the pause itself (and the takeover's own marks) is journaled: no step, no end.
    expect(
      added.filter((t) => !["run_recovered", "run_resumed", "run_paused"].includes(t)),
    ).toEqual([]);
    expect(added).toContain("run_paused");
    expect(bodies.filter((b) => b.startsWith("old-2:write"))).toEqual([]);
    await engine.close();

    // A worker with the fixed upcaster takes runs paused this way back when it starts.
    const fixed = await engineOn(path, leads({ v2: true, plan: PLAN_V2, paid: PAID_V2 }));
    expect(await fixed.handle("old-2").result()).toEqual({
      lead: "lead old-2",
      steps: ["search"],
      cents: 1200,
    });
  });

  it("pause a run whose journal holds a newer shape than the code knows", async () => {
    const path = join(tempDir(), "endure.db");
    const engine = await engineOn(path, leads({ v2: true, plan: PLAN_V2, paid: PAID_V2 }));
    await engine.start("leads", { id: "newer" }, { id: "newer" });
    await eventually(async () => (await engine.getRun("newer"))?.status === "waiting");
    await engine.close();
    const store = sqliteStore(path);
    await store.open();
    const entries = await store.readJournal("newer");
    await store.close();
    // Code that declares no shape for "plan" is older than the journal.
    const report = await replayJournal(leads({ v2: true, paid: PAID_V2 }), entries);
    expect(report.ok).toBe(false);
    expect(report.end.kind).toBe("upcast_failed");
    if (report.end.kind === "upcast_failed") {
      expect(isEndureError(report.end.error, "upcast_failed")).toBe(true);
      expect(report.end.error.message).toContain(
        "the result of step 'plan#1' of run newer was journaled at shape version 2, but this code declares version 1",
      );
    }
  });

  it("refuse shapes that cannot be followed", () => {
    const wf = (results: unknown) =>
      workflow("bad", async () => null, { results } as Parameters<typeof workflow>[2]);
    expect(() => wf({ plan: { version: 0 } })).toThrow(
      "workflow 'bad' result of step 'plan' shape version must be a whole number from 1, got 0",
    );
    expect(() => wf({ plan: { version: 3, upcast: { 1: (v: unknown) => v } } })).toThrow(
      "has no function from version 2, so a value of version 1 cannot reach version 3; add upcast[2]",
    );
    expect(() => wf({ plan: { version: 2, upcast: { 2: (v: unknown) => v } } })).toThrow(
      "upcast '2' must be a version from 1 to 1",
    );
    expect(() => wf({ plan: { version: 2, upcast: { 1: "not a function" } } })).toThrow(
      "upcast 1 must be a function of the old value",
    );
    // An old upcaster may be removed once no run needs it: the chain starts later.
    expect(() => wf({ plan: { version: 3, upcast: { 2: (v: unknown) => v } } })).not.toThrow();
    expect(() => defineEvent("e", { upcast: { 1: (v: unknown) => v } })).toThrow(
      "event 'e' upcast needs the shape's version",
    );
    expect(defineEvent("e", { version: 2, upcast: { 1: (v: unknown) => v } }).shape?.version).toBe(
      2,
    );
  });
});
