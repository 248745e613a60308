// Proves ctx.race, ctx.any, ctx.all, ctx.some and ctx.map on real SQLite: winners journaled,
// losing waits and sleeps withdrawn (journaled as cancelled, no registration left, no later
// event delivered to them, an event that raced the withdrawal kept for the next wait), the
// race that a plain Promise.race gets wrong, typed refusals of bad arguments, and ctx.map's
// bounded concurrency and input-order results.
import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CombinatorFailedError,
  isEndureError,
  limits,
  NonRetriableError,
  workflow,
  type ReceivedEvent,
  type WorkflowContext,
} from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

type Engine = Awaited<ReturnType<typeof sqliteEngine>>;

const journalHas = (engine: Engine, runId: string, count: number, type = "wait_started") =>
  eventually(
    async () => (await engine.journal(runId)).filter((e) => e.type === type).length >= count,
    10_000,
    `run ${runId} to journal ${count} ${type}`,
  );

function openWaits(path: string, runId: string): string[] {
  const db = new Database(path, { readonly: true });
  const rows = db
    .prepare("SELECT key FROM waits WHERE run_id = ? AND status = 'open' ORDER BY position")
    .all(runId) as Array<{ key: string }>;
  db.close();
  return rows.map((r) => r.key);
}

/** The race from the issue: a reply or a deadline, then a second wait for the same event. */
function replyOrDeadline(
  race: (ctx: WorkflowContext, ops: Promise<unknown>[]) => Promise<unknown>,
) {
  return async (ctx: WorkflowContext) => {
    const match = { "data.run": ctx.runId };
    const first = (await race(ctx, [
      ctx.waitForEvent("reply", { event: "reply", match, timeout: "1d" }),
      ctx.sleep("deadline", "1h"),
    ])) as ReceivedEvent | null | undefined;
    const second = await ctx.waitForEvent("second-reply", { event: "reply", match, timeout: "1d" });
    return { first: first === undefined ? "deadline" : (first?.id ?? null), second: second?.id };
  };
}

describe("ctx.race over waits", () => {
  it("withdraws the losing wait: the next event goes to the new wait and nothing stays registered", async () => {
    const clock = createTestClock();
    const path = join(tempDir(), "race.db");
    const wf = workflow(
      "reply-or-deadline",
      replyOrDeadline((ctx, ops) => ctx.race(ops)),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock, path });
    const run = await engine.start(wf, undefined);
    await journalHas(engine, run.id, 1);
    await clock.advance("1h");
    await journalHas(engine, run.id, 2);
    expect(openWaits(path, run.id)).toEqual(["second-reply#1"]);
    const explained = await engine.explain(run.id);
    expect(explained.alsoPending).toBe(0);
    expect((await engine.sendEvent({ name: "reply", id: "r-1", data: { run: run.id } })).woke).toBe(
      1,
    );
    expect(await run.result()).toEqual({ first: "deadline", second: "r-1" });
    const journal = await engine.journal(run.id);
    const types = journal.filter((e) => e.key !== null).map((e) => `${e.type} ${e.key}`);
    expect(types).toContain("wait_cancelled reply#1");
    expect(types).toContain("combinator_settled race#1");
    const settled = journal.find((e) => e.type === "combinator_settled");
    expect(settled?.data).toMatchObject({ winners: [1], ok: true });
    expect(openWaits(path, run.id)).toEqual([]);
  });

  it("refuses the same race through a plain Promise.race, naming ctx.race", async () => {
    const clock = createTestClock();
    const wf = workflow(
      "plain-race",
      replyOrDeadline((_ctx, ops) => Promise.race(ops)),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    await journalHas(engine, run.id, 1);
    await clock.advance("1h");
    const error = await run.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isEndureError(error, "wait_abandoned")).toBe(true);
    expect((error as Error).message).toContain("ctx.race");
    expect((error as Error).message).toContain("'reply#1'");
  });

  it("delivers an event that races the withdrawal exactly once, to one of the two waits", async () => {
    const clock = createTestClock();
    const wf = workflow(
      "racing-event",
      replyOrDeadline((ctx, ops) => ctx.race(ops)),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => engine.start(wf, undefined, { id: `race-${i}` })),
    );
    for (const run of runs) await journalHas(engine, run.id, 1);
    // The deadline fires while the event arrives: whichever wins, the event is never lost.
    await Promise.all([
      clock.advance("1h"),
      ...runs.map((run) =>
        engine.sendEvent({ name: "reply", id: `${run.id}-e`, data: { run: run.id } }),
      ),
    ]);
    for (const run of runs) await journalHas(engine, run.id, 2);
    // A second event per run ends the second wait of the runs where the first event won.
    for (const run of runs)
      await engine.sendEvent({ name: "reply", id: `${run.id}-late`, data: { run: run.id } });
    await clock.advance("1d");
    for (const run of runs) {
      const result = (await run.result()) as { first: string | null; second?: string };
      const ids = [result.first, result.second].filter((x) => x !== "deadline" && x !== undefined);
      expect(
        ids.filter((id) => id === `${run.id}-e`),
        JSON.stringify(result),
      ).toHaveLength(1);
    }
  });

  it("withdraws losing approvals and signals, and journals a sleep that lost", async () => {
    const clock = createTestClock();
    const wf = workflow("approval-or-signal", async (ctx) => {
      const first = await ctx.race([
        ctx.approval("ship", { title: "Ship it?", timeout: "2d" }),
        ctx.waitForSignal("stop", { timeout: "2d" }),
        ctx.sleep("patience", "1d"),
      ]);
      const again = await ctx.race([ctx.waitForSignal("stop"), ctx.sleep("later", "1h")]);
      return { first: first ?? "slept", again: (again as { data?: unknown } | undefined)?.data };
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    await journalHas(engine, run.id, 2);
    expect(await engine.approvals({ runId: run.id })).toHaveLength(1);
    await clock.advance("1d");
    await journalHas(engine, run.id, 3);
    expect(await engine.approvals({ runId: run.id })).toEqual([]);
    await engine.signal(run.id, "stop", "now");
    expect(await run.result()).toEqual({ first: "slept", again: "now" });
    const journal = await engine.journal(run.id);
    const cancelled = journal.filter((e) => e.type.endsWith("_cancelled")).map((e) => e.key);
    expect(cancelled).toEqual(["ship#1", "stop#1", "later#1"]);
  });
});

describe("ctx.all, ctx.any, ctx.some", () => {
  it("gives all results in input order, the first success, and k of n with their indices", async () => {
    const slow =
      (ms: number, value: string, fail = false) =>
      async () => {
        await new Promise((r) => setTimeout(r, ms));
        if (fail) throw new NonRetriableError(`${value} failed`);
        return value;
      };
    const wf = workflow("combined", async (ctx) => {
      const all = await ctx.all([
        ctx.step("a", slow(30, "a")),
        ctx.step("b", slow(1, "b")),
        Promise.resolve("plain"),
      ]);
      const any = await ctx.any([
        ctx.step("fails", slow(1, "x", true), { retries: 0 }),
        ctx.step("wins", slow(10, "y")),
      ]);
      const some = await ctx.some(2, [
        ctx.step("s0", slow(40, "s0")),
        ctx.step("s1", slow(1, "s1")),
        ctx.step("s2", slow(15, "s2")),
      ]);
      let allFailed: unknown = null;
      try {
        await ctx.any([ctx.step("f1", slow(1, "f1", true), { retries: 0 })]);
      } catch (e) {
        allFailed = e;
      }
      let allFirstFailure: unknown = null;
      try {
        await ctx.all([
          ctx.step("ok", slow(5, "ok")),
          ctx.step("bad", slow(1, "bad", true), { retries: 0 }),
        ]);
      } catch (e) {
        allFirstFailure = e;
      }
      return {
        all,
        any,
        some,
        allFailed: isEndureError(allFailed, "combinator_failed")
          ? (allFailed as CombinatorFailedError).errors.length
          : String(allFailed),
        allFirstFailure: (allFirstFailure as Error).message,
      };
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    expect(await run.result()).toEqual({
      all: ["a", "b", "plain"],
      any: "y",
      some: [
        { index: 1, value: "s1" },
        { index: 2, value: "s2" },
      ],
      allFailed: 1,
      allFirstFailure: "bad failed",
    });
  });

  it("refuses an empty ctx.some, k larger than n, k below 1, and empty races, with typed errors", async () => {
    const wf = workflow("bad-combinators", async (ctx) => {
      const refusals: string[] = [];
      const attempts: Array<() => Promise<unknown>> = [
        () => ctx.some(1, []),
        () => ctx.some(3, [ctx.sleep("z1", "1s"), ctx.sleep("z2", "1s")]),
        () => ctx.some(0, [ctx.sleep("z3", "1s")]),
        () => ctx.some(1.5, [ctx.sleep("z4", "1s")]),
        () => ctx.race([]),
        () => ctx.any([]),
        () => ctx.all("nope" as unknown as unknown[]),
      ];
      for (const attempt of attempts) {
        try {
          await attempt();
          refusals.push("accepted");
        } catch (e) {
          refusals.push(isEndureError(e, "invalid_argument") ? (e as Error).message : String(e));
        }
      }
      return { refusals, empty: await ctx.all([]) };
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const { refusals, empty } = await engine.start(wf, undefined).then((r) => r.result());
    expect(empty).toEqual([]);
    expect(refusals[0]).toMatch(/ctx\.some got no operations/);
    expect(refusals[1]).toMatch(/k from 1 to the number of operations \(2\), got 3/);
    expect(refusals[2]).toMatch(/got 0/);
    expect(refusals[3]).toMatch(/got 1\.5/);
    expect(refusals[4]).toMatch(/ctx\.race got no operations/);
    expect(refusals[5]).toMatch(/ctx\.any got no operations/);
    expect(refusals[6]).toMatch(/ctx\.all needs an array/);
  });

  it("withdraws every wait of a ctx.some that loses a deadline", async () => {
    const clock = createTestClock();
    const path = join(tempDir(), "some.db");
    const wf = workflow("two-of-three-or-deadline", async (ctx) => {
      const answers = ctx.some(2, [
        ctx.waitForEvent("vendor", { event: "vendor.reply" }),
        ctx.waitForEvent("carrier", { event: "carrier.reply" }),
        ctx.waitForEvent("warehouse", { event: "warehouse.reply" }),
      ]);
      const got = await ctx.race([answers, ctx.sleep("deadline", "2d")]);
      return got === undefined ? "deadline" : got;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock, path });
    const run = await engine.start(wf, undefined);
    await journalHas(engine, run.id, 3);
    await engine.sendEvent({ name: "carrier.reply", id: "c-1" });
    await journalHas(engine, run.id, 1, "wait_completed");
    await clock.advance("2d");
    expect(await run.result()).toBe("deadline");
    expect(openWaits(path, run.id)).toEqual([]);
    const cancelled = (await engine.journal(run.id))
      .filter((e) => e.type.endsWith("_cancelled"))
      .map((e) => e.key);
    expect(cancelled.sort()).toEqual(["some#1", "vendor#1", "warehouse#1"]);
  });
});

describe("ctx.map", () => {
  const tracked = () => {
    let running = 0;
    let most = 0;
    return {
      get most() {
        return most;
      },
      async item(n: number) {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5 + ((n * 7) % 11)));
        running--;
        if (n === 13) throw new NonRetriableError("thirteen");
        return n * 10;
      },
    };
  };

  it("never runs more than `concurrency` items at once and returns results in input order", async () => {
    const t = tracked();
    const items = Array.from({ length: 12 }, (_, i) => i);
    const wf = workflow("mapped", (ctx) =>
      ctx.map("item", items, (n) => t.item(n), { concurrency: 3 }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const result = await engine.start(wf, undefined).then((r) => r.result());
    expect(result).toEqual(items.map((n) => n * 10));
    expect(t.most).toBe(3);
  });

  it("runs MAP_CONCURRENCY_DEFAULT items at once when the call gives no concurrency", async () => {
    const t = tracked();
    const items = Array.from({ length: limits.MAP_CONCURRENCY_DEFAULT + 2 }, (_, i) => i);
    const wf = workflow("mapped-default", (ctx) => ctx.map("item", items, (n) => t.item(n)));
    const engine = await sqliteEngine({ workflows: [wf] });
    await engine.start(wf, undefined).then((r) => r.result());
    expect(t.most).toBe(limits.MAP_CONCURRENCY_DEFAULT);
  });

  it("fails fast on the first failure by default, or collects every outcome", async () => {
    const items = [11, 12, 13, 14];
    const t = tracked();
    const fast = workflow("map-fast", async (ctx) => {
      try {
        await ctx.map("item", items, (n) => t.item(n), { concurrency: 1, retries: 0 });
        return "no failure";
      } catch (e) {
        const started = (await ctx.step("count", () => 0)) === 0;
        return { error: (e as Error).message, started };
      }
    });
    const collect = workflow("map-collect", (ctx) =>
      ctx.map("item", items, (n) => t.item(n), { failures: "collect", retries: 0 }),
    );
    const engine = await sqliteEngine({ workflows: [fast, collect] });
    const failed = await engine.start(fast, undefined);
    expect(await failed.result()).toEqual({ error: "thirteen", started: true });
    const keys = (await engine.journal(failed.id))
      .filter((e) => e.type === "step_succeeded" || e.type === "step_failed")
      .map((e) => e.key);
    expect(keys, "no item started after the failure").toEqual([
      "item#1",
      "item#2",
      "item#3",
      "count#1",
    ]);
    const collected = (await engine.start(collect, undefined).then((r) => r.result())) as Array<{
      ok: boolean;
    }>;
    expect(collected.map((o) => o.ok)).toEqual([true, true, false, true]);
    expect(collected[3]).toEqual({ ok: true, value: 140 });
  });

  it("refuses a concurrency below 1 and a fractional one", async () => {
    const wf = workflow("map-bad", async (ctx) => {
      const out: string[] = [];
      for (const concurrency of [0, 2.5]) {
        try {
          await ctx.map("x", [1], (n) => n, { concurrency });
        } catch (e) {
          out.push(isEndureError(e, "invalid_argument") ? (e as Error).message : String(e));
        }
      }
      return out;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const out = await engine.start(wf, undefined).then((r) => r.result());
    expect(out).toEqual([
      "map 'x' concurrency must be a whole number from 1, got 0",
      "map 'x' concurrency must be a whole number from 1, got 2.5",
    ]);
  });
});
