// Conformance cases for runs' data keys (crypto-shredding): a key is stored once per run (an
// idempotent start keeps the first), read back as stored, shredded only once the run has
// ended (its waits' values erased with it, its journal left whole), listed for rotation
// without shredded keys, rewrapped only from the wrapping it had, and deleted with its run.
import assert from "node:assert/strict";
import { create, createRuns, entry, LEASE, T0, type ConformanceCase } from "./conformance-case.js";
import type { RunKeyStore } from "./run-keys.js";
import type { Store } from "./store.js";

function keysOf(store: Store): RunKeyStore {
  assert.ok(store.runKeys !== undefined, "the store keeps run keys");
  return store.runKeys;
}

/** Ends run `id` (claimed by `create(..., claim)`) as completed. */
async function complete(store: Store, id: string): Promise<void> {
  const result = await store.commit({
    creates: [],
    writes: [
      {
        runId: id,
        epoch: 1,
        entries: [entry("run_completed", T0 + 1)],
        update: { status: "completed", output: '"done"' },
      },
    ],
    now: T0 + 1,
  });
  assert.equal(result.writes[0]?.kind, "committed");
}

/** The cases about runs' data keys. */
export const keyCases: readonly ConformanceCase[] = [
  {
    name: "a run's data key is stored once, read back, and shredded only once the run has ended",
    async run(store) {
      const keys = keysOf(store);
      const claim = { workerId: "w1", leaseMs: LEASE };
      await createRuns(store, create("k1", "wf", claim), create("k2", "wf", claim));
      const put = await keys.put(
        [
          { runId: "k1", wrapped: "wrap-1" },
          { runId: "k2", wrapped: "wrap-2" },
        ],
        T0,
      );
      assert.deepEqual(
        put.map((k) => [k.runId, k.wrapped, k.shreddedAt]),
        [
          ["k1", "wrap-1", null],
          ["k2", "wrap-2", null],
        ],
      );
      // A second put (an idempotent start) keeps the first key.
      const again = await keys.put([{ runId: "k1", wrapped: "other" }], T0 + 5);
      assert.equal(again[0]?.wrapped, "wrap-1");
      assert.equal(again[0]?.createdAt, T0);
      const read = await keys.read(["k2", "none", "k1"]);
      assert.deepEqual(read.map((k) => k.runId).sort(), ["k1", "k2"]);

      assert.deepEqual(await keys.shred("k1", T0 + 2), { kind: "not_ended", status: "running" });
      assert.deepEqual(await keys.shred("missing", T0 + 2), { kind: "not_found" });
      await complete(store, "k1");
      const journal = await store.readJournal("k1");
      assert.deepEqual(await keys.shred("k1", T0 + 3), { kind: "shredded", shreddedAt: T0 + 3 });
      assert.deepEqual(await keys.shred("k1", T0 + 4), { kind: "already", shreddedAt: T0 + 3 });
      const [shredded] = await keys.read(["k1"]);
      assert.equal(shredded?.wrapped, null);
      assert.equal(shredded?.shreddedAt, T0 + 3);
      // The journal is left as it was; the other run's key is untouched.
      assert.deepEqual(await store.readJournal("k1"), journal);
      assert.equal((await keys.read(["k2"]))[0]?.wrapped, "wrap-2");
      // A run that never had a key says so.
      await createRuns(store, create("k3", "wf", claim));
      await complete(store, "k3");
      assert.deepEqual(await keys.shred("k3", T0 + 5), { kind: "no_key" });
    },
  },
  {
    name: "run keys are listed in id order without shredded ones, rewrapped from their wrapping only, and deleted with their run",
    async run(store) {
      const keys = keysOf(store);
      const claim = { workerId: "w1", leaseMs: LEASE };
      const ids = ["a", "b", "c", "d"];
      await createRuns(store, ...ids.map((id) => create(id, "wf", claim)));
      await keys.put(
        ids.map((id) => ({ runId: id, wrapped: `w-${id}` })),
        T0,
      );
      await complete(store, "b");
      await keys.shred("b", T0 + 2);
      const first = await keys.list(null, 2);
      assert.deepEqual(
        first.map((k) => k.runId),
        ["a", "c"],
      );
      assert.deepEqual(
        (await keys.list("c", 10)).map((k) => k.runId),
        ["d"],
      );
      assert.equal(await keys.rewrap("a", "w-a", "w2-a"), true);
      assert.equal(await keys.rewrap("a", "w-a", "w3-a"), false);
      assert.equal((await keys.read(["a"]))[0]?.wrapped, "w2-a");
      assert.equal(await keys.rewrap("b", "w-b", "w2-b"), false);
      await complete(store, "a");
      const deleted = await store.deleteFinishedRuns(T0 + 10, 10);
      assert.deepEqual([...deleted].sort(), ["a", "b"]);
      assert.deepEqual(
        (await keys.read(["a", "b", "c"])).map((k) => k.runId),
        ["c"],
      );
    },
  },
];
