// Proves ctx.invoke and ctx.startChild on real SQLite and real PostgreSQL: the child's output
// reaches the parent, a failed child reaches it as a ChildRunFailedError it can catch,
// children carry their parent's id (getRun, listRuns({ parentId })), and a cancelled parent
// cancels the children it waits for. With aesGcmCodec({ runKeys: true }) a child created in
// its parent's commit gets a data key of its own, and a parent whose engine restarted while it
// waited (no key in memory) still reads its child's output.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  aesGcmCodec,
  createEngine,
  isEndureError,
  workflow,
  type Engine,
  type EngineOptions,
  type Store,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const double = workflow("double", async (ctx, input: { n: number }) =>
  ctx.step("double", () => input.n * 2),
);
const boom = workflow("boom", async (ctx) => {
  await ctx.step(
    "boom",
    () => {
      throw new Error("no luck");
    },
    { retries: 0 },
  );
  return 0;
});
const forever = workflow("forever", async (ctx) => {
  await ctx.sleep("long", "30d");
  return 1;
});
const parent = workflow("parent", async (ctx, input: { n: number }) => {
  const a = await ctx.invoke("double", double, { n: input.n });
  let caught = "";
  try {
    await ctx.invoke("boom", boom, {});
  } catch (e) {
    if (isEndureError(e, "child_run_failed")) caught = (e.cause as Error).message;
  }
  const started = await ctx.startChild("fire", double, { n: 5 });
  return { a, caught, started: started.runId };
});
const waitingParent = workflow("waiting-parent", async (ctx) => ctx.invoke("f", forever, {}));
/** Waits for a signal before its output, so that its parent waits across an engine restart. */
const gated = workflow("gated", async (ctx, input: { secret: string }) => {
  await ctx.waitForSignal("go", { timeout: "1m" });
  return { echoed: input.secret };
});
const keyedParent = workflow("keyed-parent", async (ctx, input: { secret: string }) =>
  ctx.invoke("gated", gated, input),
);

/** Children of ctx.map({ child: true }): how many run at once, across every map test. */
const mapped = { running: 0, most: 0, bodies: new Map<number, number>() };
const square = workflow("square", async (ctx, input: { n: number }) =>
  ctx.step(
    "square",
    async () => {
      mapped.running++;
      mapped.most = Math.max(mapped.most, mapped.running);
      mapped.bodies.set(input.n, (mapped.bodies.get(input.n) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20 + ((input.n * 7) % 13)));
      mapped.running--;
      if (input.n === 13) throw new Error("thirteen");
      return input.n * input.n;
    },
    { retries: 0 },
  ),
);
const fanOut = workflow("fan-out", async (ctx, input: { items: number[] }) =>
  ctx.map(
    "sq",
    input.items.map((n) => ({ n })),
    square,
    { child: true, concurrency: 3, failures: "collect" },
  ),
);
const gatedItem = workflow("gated-item", async (ctx, input: { n: number }) => {
  await ctx.waitForSignal("go", { timeout: "1m" });
  return input.n + 100;
});
const gatedFanOut = workflow("gated-fan-out", async (ctx) =>
  ctx.map(
    "g",
    [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
    gatedItem,
    { child: true, concurrency: 2 },
  ),
);

/** True once run `id` exists and journaled the start of its wait (it may still be in memory). */
async function waitsForSignal(engine: Engine, id: string): Promise<boolean> {
  if ((await engine.getRun(id)) === null) return false;
  return (await engine.journal(id)).some((e) => e.type === "wait_started");
}

const codec = aesGcmCodec({ keys: { k1: Buffer.alloc(32, 0x3c) }, current: "k1", runKeys: true });

type Open = (extra?: Partial<EngineOptions>) => Promise<{ engine: Engine; reopen: () => Store }>;

const stores: Array<[string, () => Promise<() => Store>]> = [
  [
    "SQLite",
    async () => {
      const path = join(tempDir(), "endure.db");
      return () => sqliteStore(path, { durability: "process" });
    },
  ],
  [
    "PostgreSQL",
    async () => {
      const url = await freshDatabase();
      return () => postgresStore(url);
    },
  ],
];

describe.each(stores)("child runs on %s", (_name, makeStore) => {
  const open: Open = async (extra = {}) => {
    const reopen = await makeStore();
    const engine = await createEngine({
      store: reopen(),
      workflows: [
        parent,
        double,
        boom,
        forever,
        waitingParent,
        gated,
        keyedParent,
        square,
        fanOut,
        gatedItem,
        gatedFanOut,
      ],
      logger: { warn: () => {} },
      gcSchedule: null,
      ...extra,
    });
    onCleanup(() => engine.close());
    return { engine, reopen };
  };

  it("invoke returns the child's output, a failure is a ChildRunFailedError", async () => {
    const { engine } = await open();
    const run = await engine.start(parent, { n: 21 }, { id: "p1" });
    expect(await run.result()).toEqual({ a: 42, caught: "no luck", started: "p1/fire#1" });
    expect((await engine.getRun("p1/double#1"))?.parentId).toBe("p1");
    expect((await engine.getRun("p1"))?.parentId).toBeNull();
    const children = await engine.listRuns({ parentId: "p1" });
    expect(children.runs.map((r) => r.id).sort()).toEqual([
      "p1/boom#1",
      "p1/double#1",
      "p1/fire#1",
    ]);
    const failed = children.runs.find((r) => r.id === "p1/boom#1");
    expect(failed?.status).toBe("failed");
    const journal = await engine.journal("p1");
    expect(
      journal.some(
        (e) => e.type === "wait_started" && JSON.stringify(e.data).includes("p1/double#1"),
      ),
    ).toBe(true);
  });

  it("cancelling the parent cancels the child it waits for", async () => {
    const { engine } = await open();
    await engine.start(waitingParent, {}, { id: "p2" });
    await eventually(async () => (await engine.getRun("p2/f#1")) !== null, 10_000, "child");
    await engine.cancel("p2", "enough");
    await eventually(
      async () => (await engine.getRun("p2/f#1"))?.status === "cancelled",
      10_000,
      "child cancelled",
    );
    await eventually(async () => (await engine.getRun("p2"))?.status === "cancelled");
  });

  it("map with { child: true } runs at most `concurrency` children at once, results in input order", async () => {
    const { engine } = await open();
    mapped.running = 0;
    mapped.most = 0;
    mapped.bodies.clear();
    const items = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 10];
    const run = await engine.start(fanOut, { items }, { id: "m1" });
    const outcomes = (await run.result()) as Array<{
      ok: boolean;
      value?: number;
      error?: unknown;
    }>;
    expect(outcomes.map((o) => (o.ok ? o.value : "failed"))).toEqual(
      items.map((n) => (n === 13 ? "failed" : n * n)),
    );
    const failure = outcomes[items.indexOf(13)]?.error;
    expect(isEndureError(failure, "child_run_failed")).toBe(true);
    expect(mapped.most).toBe(3);
    expect([...mapped.bodies.values()].every((count) => count === 1)).toBe(true);
    const children = await engine.listRuns({ parentId: "m1" });
    expect(children.runs.map((r) => r.id).sort()).toEqual(
      items.map((_, i) => `m1/sq#${i + 1}`).sort(),
    );
  });

  it("map with { child: true } finds the same children after a restart, none twice", async () => {
    const { engine, reopen } = await open();
    await engine.start(gatedFanOut, {}, { id: "m2" });
    await eventually(() => waitsForSignal(engine, "m2/g#2"));
    expect(await engine.getRun("m2/g#3")).toBeNull();
    await engine.close();
    const again = await createEngine({
      store: reopen(),
      workflows: [gatedItem, gatedFanOut],
      logger: { warn: () => {} },
      gcSchedule: null,
    });
    onCleanup(() => again.close());
    for (let n = 1; n <= 6; n++) {
      await eventually(() => waitsForSignal(again, `m2/g#${n}`));
      // Never more than two children started and not ended.
      const open = (await again.listRuns({ parentId: "m2" })).runs.filter(
        (r) => r.status !== "completed",
      );
      expect(open.length).toBeLessThanOrEqual(2);
      await again.signal(`m2/g#${n}`, "go", {});
    }
    expect(await again.handle("m2").result()).toEqual([101, 102, 103, 104, 105, 106]);
    const children = (await again.listRuns({ parentId: "m2" })).runs.map((r) => r.id).sort();
    expect(children).toEqual([1, 2, 3, 4, 5, 6].map((n) => `m2/g#${n}`));
  });

  it("map with { child: true } refuses a function and an id, with what to pass instead", async () => {
    const wrong = workflow("map-wrong", async (ctx, input: { how: string }) => {
      const options = input.how === "id" ? { child: true, id: "x" } : { child: true };
      const fn = input.how === "id" ? square : () => 1;
      try {
        await ctx.map("w", [{ n: 1 }], fn as never, options as never);
        return "accepted";
      } catch (e) {
        return isEndureError(e, "invalid_argument") ? e.message : "other";
      }
    });
    const { engine } = await open({ workflows: [wrong, square] });
    const fn = await engine.start(wrong, { how: "fn" }).then((r) => r.result());
    expect(fn).toBe(
      "map 'w' with { child: true } takes a workflow (made with workflow()) or its name in place " +
        "of the function: each item becomes that child run's input",
    );
    const id = await engine.start(wrong, { how: "id" }).then((r) => r.result());
    expect(id).toBe(
      "map 'w' with { child: true } takes no id: each child's id is derived from this run's id " +
        "and the item's position",
    );
  });

  it("a child created in its parent's commit gets its own data key", async () => {
    const { engine, reopen } = await open({ codec });
    await engine.start(keyedParent, { secret: "s-81f2" }, { id: "p3" });
    await eventually(async () => (await engine.getRun("p3/gated#1"))?.status === "waiting");
    await engine.close();
    // A fresh engine: no data key in memory, the parent's wait is answered after the restart.
    const store = reopen();
    const again = await createEngine({
      store,
      workflows: [gated, keyedParent],
      logger: { warn: () => {} },
      gcSchedule: null,
      codec,
    });
    onCleanup(() => again.close());
    const keys = await store.runKeys?.read(["p3", "p3/gated#1"]);
    expect(keys?.map((k) => k.runId).sort()).toEqual(["p3", "p3/gated#1"]);
    expect(new Set(keys?.map((k) => k.wrapped)).size).toBe(2);
    await again.signal("p3/gated#1", "go", {});
    await eventually(async () => (await again.getRun("p3"))?.status === "completed");
    const handle = again.handle<{ echoed: string }>("p3");
    expect(await handle.result()).toEqual({ echoed: "s-81f2" });
  });
});
