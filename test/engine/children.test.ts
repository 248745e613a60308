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
      workflows: [parent, double, boom, forever, waitingParent, gated, keyedParent],
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
