// Conformance cases for flow control: priorities, concurrency limits shared by claimers,
// rate limits as token buckets, and claims racing each other.
import assert from "node:assert/strict";
import {
  claimOne,
  create,
  createRuns,
  entry,
  lapse,
  LEASE,
  SHORT,
  sleep,
  T0,
  type ConformanceCase,
} from "./conformance-case.js";

/** The cases about priorities, concurrency and rate limits, and racing claims. */
export const flowCases: readonly ConformanceCase[] = [
  {
    name: "runs are claimed by priority, then in the order they became runnable",
    async run(store) {
      const at = (id: string, now: number, priority: number) =>
        store.commit({ creates: [create(id, "wf", null, { priority })], writes: [], now });
      await at("low", T0, -5);
      await at("mid1", T0 + 1, 0);
      await at("high", T0 + 2, 10);
      await at("mid2", T0 + 3, 0);
      await createRuns(
        store,
        create("timer", "wf", { workerId: "w0", leaseMs: LEASE }, { priority: 5 }),
      );
      await store.commit({
        creates: [],
        writes: [
          { runId: "timer", epoch: 1, entries: [], update: { status: "waiting", wakeAt: T0 + 10 } },
        ],
        now: T0,
      });
      const ids = async (limit: number) =>
        (await claimOne(store, "w1", T0 + 10, false, { limit })).map((c) => c.run.id);
      assert.deepEqual(await ids(2), ["high", "timer"]);
      assert.deepEqual(await ids(2), ["mid1", "mid2"]);
      assert.deepEqual(await ids(2), ["low"]);
    },
  },
  {
    name: "a concurrency limit holds per key across claims and frees places as runs leave",
    async run(store) {
      const limited = (id: string, key: string, now: number) =>
        store.commit({
          creates: [create(id, "wf", null, { concurrencyKey: key })],
          writes: [],
          now,
        });
      for (let i = 1; i <= 4; i++) await limited(`a${i}`, "a", T0 + i);
      await limited("b1", "b", T0 + 10);
      await store.commit({ creates: [create("nokey1", "wf")], writes: [], now: T0 + 11 });
      await store.commit({ creates: [create("nokey2", "wf")], writes: [], now: T0 + 12 });
      await store.commit({ creates: [create("other", "free")], writes: [], now: T0 + 13 });
      const limits = { concurrency: { wf: 1 } };
      const first = await claimOne(store, "w1", T0 + 20, false, { ...limits, limit: 1 });
      assert.deepEqual(
        first.map((c) => c.run.id),
        ["a1"],
      );
      const second = await claimOne(store, "w2", T0 + 20, false, { ...limits, limit: 1 });
      assert.deepEqual(
        second.map((c) => c.run.id),
        ["b1"],
        "a full key does not block others",
      );
      const rest = await claimOne(store, "w3", T0 + 20, false, {
        ...limits,
        workflows: ["wf", "free"],
      });
      assert.deepEqual(
        rest.map((c) => c.run.id),
        ["nokey1", "other"],
        "runs without a key share the workflow-wide place; unlimited workflows are not held back",
      );
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "a1",
            epoch: first[0]?.run.epoch ?? 0,
            entries: [entry("run_completed")],
            update: { status: "completed", output: "1" },
          },
        ],
        now: T0 + 30,
      });
      const next = await claimOne(store, "w3", T0 + 31, false, limits);
      assert.deepEqual(
        next.map((c) => c.run.id),
        ["a2"],
        "a finished run frees its place",
      );
      const two = await claimOne(store, "w4", T0 + 32, false, { concurrency: { wf: 2 } });
      assert.deepEqual(
        two.map((c) => c.run.id),
        ["a3", "nokey2"],
        "a limit of 2 allows one more per key",
      );
      assert.equal(
        (await claimOne(store, "w4", T0 + 33, false, { concurrency: { wf: 2 } })).length,
        0,
      );
    },
  },
  {
    name: "a run taken over keeps its place in its concurrency limit",
    async run(store) {
      await createRuns(
        store,
        create("k1", "wf", null, { concurrencyKey: "" }),
        create("k2", "wf", null, { concurrencyKey: "" }),
      );
      const limits = { concurrency: { wf: 1 }, leaseMs: SHORT };
      const [first] = await claimOne(store, "gone", T0, false, limits);
      assert.equal(first?.run.id, "k1");
      await lapse();
      const again = await claimOne(store, "w2", T0 + SHORT + 1, false, limits);
      assert.deepEqual(
        again.map((c) => [c.run.id, c.takeover]),
        [["k1", true]],
        "the expired run is taken over; k2 still waits for the place",
      );
    },
  },
  {
    name: "rate limits reserve units from a shared token bucket and queue what does not fit",
    async run(store) {
      const started = Date.now();
      const reserve = async (key: string, units: number) =>
        (
          await store.acquireRate({
            key,
            units,
            limit: 2,
            periodMs: 400,
            now: T0 + Date.now() - started,
          })
        ).waitMs;
      assert.equal(await reserve("model", 1), 0);
      assert.equal(await reserve("model", 1), 0, "a full bucket allows its limit at once");
      const third = await reserve("model", 1);
      assert.ok(
        third > 100 && third <= 200,
        `the third unit waits a refill (~200 ms), got ${third}`,
      );
      const fourth = await reserve("model", 2);
      assert.ok(
        fourth > 500 && fourth <= 600,
        `two more units queue after the third (~600 ms), got ${fourth}`,
      );
      assert.equal(await reserve("other", 2), 0, "buckets are per key");
      await sleep(1_100);
      assert.equal(await reserve("model", 2), 0, "an idle bucket refills");
    },
  },
  {
    name: "concurrent claims never hand out a run twice",
    async run(store) {
      for (let i = 0; i < 20; i++) await createRuns(store, create(`c${i}`));
      const rounds = await Promise.all(
        ["w1", "w2", "w3", "w4"].map((w) => claimOne(store, w, T0, false, { limit: 8 })),
      );
      const ids = rounds.flat().map((c) => c.run.id);
      assert.equal(new Set(ids).size, ids.length, "no run claimed twice");
      assert.equal(ids.length, 20);
    },
  },
];
