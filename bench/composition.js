// The composition figures of `npm run bench` on SQLite: the time a run with a long journal
// takes to resume (its replay), a parent fanning out to 1,000 child runs beside 1,000 runs
// started by a client, and the heap held by a parent waiting on 1,000 waiting children.
import Database from "better-sqlite3";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { waitWaiting } from "./events.js";
import { median } from "./sequential.js";

const silent = { warn: () => {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let afterAt = 0;
/** `steps` steps (two journal entries each), a wait for a signal, then one step. */
const resumer = workflow("resumer", async (ctx, input) => {
  for (let i = 0; i < input.steps; i++) await ctx.step("step", () => i);
  await ctx.waitForSignal("go");
  await ctx.step("after", () => {
    afterAt = performance.now();
  });
  return input.steps;
});

/** A trivial child: one step. The same name and body as in bench/pg-worker.mjs. */
export const oneStep = workflow("one-step", async (ctx, input) => ctx.step("step", () => input));
/** A parent: one child run per item, `concurrency` at once; the children's results summed. */
export const fanOut = workflow("fan-out", async (ctx, input) => {
  const items = Array.from({ length: input.children }, (_, i) => i);
  const results = await ctx.map("c", items, oneStep, {
    child: true,
    concurrency: input.concurrency,
  });
  return results.reduce((a, b) => a + b, 0);
});

/** A child that waits for a signal no one sends, and its parent waiting on all of them. */
const idleChild = workflow("idle-child", async (ctx) => ctx.waitForSignal("never"));
const idleParent = workflow("idle-parent", async (ctx, input) => {
  const items = Array.from({ length: input.children }, (_, i) => i);
  return ctx.map("c", items, idleChild, { child: true, concurrency: input.children });
});

/** Journal entries of a `resumer` run of `steps` steps, as it waits. */
const entriesOf = (steps) => 2 * steps + 3;
const stepsFor = (entries) => Math.max(0, Math.round((entries - 3) / 2));

/**
 * Resume time by journal size. For each size in `sizes`, `rounds` runs are taken to their
 * wait (for a signal) and evicted; the engine is closed. Each round then opens a fresh engine
 * on the file (durability `durability`), signals one run of each size, and times from the
 * signal to the body of the step after the wait starting: the wake plus the replay of the
 * whole journal. The floor: the run's journal rows read by the store's own SELECT, on a plain
 * connection to the same file.
 */
export async function resumeTimes(path, { sizes, rounds, durability }) {
  const build = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [resumer],
    logger: silent,
    gcSchedule: null,
    worker: { inMemoryWait: 1 },
  });
  const ids = new Map();
  for (const size of sizes) {
    const handles = await Promise.all(
      Array.from({ length: rounds + 1 }, () => build.start(resumer, { steps: stepsFor(size) })),
    );
    ids.set(
      size,
      handles.map((h) => h.id),
    );
  }
  await waitWaiting(build, sizes.length * (rounds + 1));
  await build.close();
  const samples = new Map(sizes.map((s) => [s, { ms: [], floorMs: [] }]));
  const db = new Database(path, { readonly: true });
  // The store's own read of a run's rows (one range of the journal's b-tree), on a plain
  // connection.
  const select = db.prepare(
    `SELECT j.seq, j.run_id, j.type, j.at, j.position, j.key, j.data, j.started_at, j.started_data
     FROM runs r JOIN journal j ON j.k >= r.run_no * 4294967296
       AND j.k < r.run_no * 4294967296 + 4294967296
     WHERE r.id = ? ORDER BY j.k`,
  );
  for (let r = 0; r <= rounds; r++) {
    for (const size of sizes) {
      const t = process.hrtime.bigint();
      select.all(ids.get(size)[r]);
      if (r > 0) samples.get(size).floorMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  db.close();
  // Round 0 warms compiled code and the page cache and is dropped.
  for (let r = 0; r <= rounds; r++) {
    for (const size of sizes) {
      const id = ids.get(size)[r];
      const engine = await createEngine({
        store: sqliteStore(path, { durability }),
        workflows: [resumer],
        logger: silent,
        gcSchedule: null,
      });
      // Let the new worker finish its first look at the store: the wake is timed, not the open.
      await sleep(50);
      afterAt = 0;
      const t0 = performance.now();
      await engine.signal(id, "go");
      await engine.handle(id).result();
      const ms = afterAt - t0;
      await engine.close();
      if (r > 0) samples.get(size).ms.push(ms);
    }
  }
  return sizes.map((size) => ({
    entries: entriesOf(stepsFor(size)),
    rounds,
    medianMs: median(samples.get(size).ms),
    floorMs: median(samples.get(size).floorMs),
    samplesMs: samples.get(size).ms,
  }));
}

/**
 * Children per second on one engine: a parent fanning out to `children` one-step child runs,
 * `concurrency` at once, timed from its start to its result; beside the floor, the same
 * number of the same one-step runs started at once by the caller, timed to their last result.
 * Median of `rounds` rounds of each, after one round of each dropped.
 */
export async function childrenRate(path, { children, concurrency, rounds, durability }) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability }),
    workflows: [fanOut, oneStep],
    logger: silent,
    gcSchedule: null,
  });
  const parent = async () => {
    const t0 = performance.now();
    const out = await (await engine.start(fanOut, { children, concurrency })).result();
    const ms = performance.now() - t0;
    if (out !== (children * (children - 1)) / 2) throw new Error(`fan-out returned ${out}`);
    return ms;
  };
  const floor = async () => {
    const t0 = performance.now();
    const handles = await Promise.all(
      Array.from({ length: children }, (_, i) => engine.start(oneStep, i)),
    );
    await Promise.all(handles.map((h) => h.result()));
    return performance.now() - t0;
  };
  await parent();
  await floor();
  const parentMs = [];
  const floorMs = [];
  for (let r = 0; r < rounds; r++) {
    parentMs.push(await parent());
    floorMs.push(await floor());
  }
  await engine.close();
  return { concurrency, rounds, ...childrenFigures(children, parentMs, floorMs) };
}

/** Children per second from the rounds' parent times, beside the floor's runs per second. */
export function childrenFigures(children, parentMs, floorMs) {
  const ms = median(parentMs);
  const fms = median(floorMs);
  return {
    children,
    ms,
    childrenPerSecond: (children / ms) * 1000,
    floorMs: fms,
    floorRunsPerSecond: (children / fms) * 1000,
    samplesMs: parentMs,
  };
}

/** Heap used after three rounds of gc. */
async function settledHeap() {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Heap held by a parent waiting on `children` children that are themselves waiting (for a
 * signal), all evicted to the store: heap after gc with them waiting, minus the heap before
 * the parent started, per child. The floor: the same figure for as many runs waiting for a
 * signal with no parent, measured on the same engine just before.
 */
export async function waitingChildrenMemory(path, { children }) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [idleParent, idleChild],
    logger: silent,
    gcSchedule: null,
    worker: { inMemoryWait: 1 },
  });
  const waitingChildren = async (parentId, n) => {
    for (;;) {
      let count = 0;
      let cursor;
      do {
        const page = await engine.listRuns({ parentId, status: "waiting", limit: 1000, cursor });
        count += page.runs.length;
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      const parent = await engine.getRun(parentId);
      if (count >= n && parent?.status === "waiting") return;
      await sleep(20);
    }
  };
  // Warm-up: a smaller parent, so that compiled code and caches are in the baseline.
  const warm = await engine.start(idleParent, { children: 100 });
  await waitingChildren(warm.id, 100);
  const floorBefore = await settledHeap();
  await Promise.all(Array.from({ length: children }, () => engine.start(idleChild, undefined)));
  await waitWaiting(engine, 100 + 1 + children);
  const before = await settledHeap();
  const parent = await engine.start(idleParent, { children });
  await waitingChildren(parent.id, children);
  const after = await settledHeap();
  await engine.close();
  return {
    children,
    heapBytesPerChild: Math.max(0, after - before) / children,
    floorHeapBytesPerRun: Math.max(0, before - floorBefore) / children,
    heapAfterMiB: after / 2 ** 20,
  };
}

/** Time of `n` turns of the event loop one after another (setImmediate), in ms. */
export function loopTurnsMs(n) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let left = n;
    const turn = () => {
      if (--left <= 0) resolve(performance.now() - t0);
      else setImmediate(turn);
    };
    setImmediate(turn);
  });
}
