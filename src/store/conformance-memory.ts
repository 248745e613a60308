// Conformance cases for durable keyed memory: writes commit with a run's entries or not at
// all, fenced and failed transactions leave nothing, concurrent read-modify-writes of one key
// are serialized, history keeps who wrote which version, listings page by prefix, and
// retention deletes a namespace's stale keys with their history.
import assert from "node:assert/strict";
import { MEMORY_HISTORY_PER_KEY_MAX } from "../core/limits.js";
import type { MemoryTx } from "../core/memory.js";
import { create, createRuns, entry, LEASE, T0, type ConformanceCase } from "./conformance-case.js";
import type { Store } from "./store.js";

/** Writes `value` (encoded JSON) to a key, as a run or from outside. */
function put(
  memory: MemoryTx,
  namespace: string,
  key: string,
  value: string,
  more: { at?: number; runId?: string | null; position?: number | null; by?: string | null } = {},
) {
  return memory.write({
    namespace,
    key,
    value,
    at: more.at ?? T0,
    runId: more.runId ?? null,
    position: more.position ?? null,
    by: more.by ?? null,
  });
}

/** Adds one to a counter key in a transaction of its own, reading it under its lock. */
async function increment(store: Store, key: string): Promise<void> {
  await store.memoryTransaction(async (memory) => {
    const current = await memory.read("counters", key);
    // Room for another writer to interleave, if the store let it.
    await new Promise((r) => setTimeout(r, 1));
    const n = current === null ? 0 : (JSON.parse(current.value) as number);
    await put(memory, "counters", key, JSON.stringify(n + 1));
  });
}

/** The cases about durable memory. */
export const memoryCases: readonly ConformanceCase[] = [
  {
    name: "a memory write commits with the run's entries, and a fenced or failed one leaves nothing",
    async run(store) {
      await createRuns(store, create("m", "wf", { workerId: "w1", leaseMs: LEASE }));
      const ok = await store.transaction(
        "m",
        1,
        T0,
        [entry("value_recorded", T0, 1, "now", "1")],
        async (_tx, memory) => {
          assert.equal(await memory.read("profile", "42"), null);
          const written = await put(memory, "profile", "42", '{"tier":"gold"}', {
            runId: "m",
            position: 2,
          });
          assert.equal(written.version, 1);
          return [entry("memory_written", T0, 2, "profile/42:set#1", '{"version":1}')];
        },
      );
      assert.equal(ok.kind, "committed");
      assert.deepEqual(
        (await store.readJournal("m")).map((e) => e.type),
        ["run_started", "value_recorded", "memory_written"],
      );
      const fenced = await store.transaction("m", 9, T0, [], async (_tx, memory) => {
        await memory.read("profile", "42");
        await put(memory, "profile", "42", '"fenced"', { runId: "m" });
        return [entry("memory_written", T0, 3, "profile/42:set#2")];
      });
      assert.equal(fenced.kind, "fenced");
      await assert.rejects(
        store.transaction("m", 1, T0, [], async (_tx, memory) => {
          await memory.read("profile", "42");
          await put(memory, "profile", "42", '"failed"', { runId: "m" });
          throw new Error("update failed");
        }),
        /update failed/,
      );
      await assert.rejects(
        store.memoryTransaction(async (memory) => {
          await memory.read("profile", "42");
          await put(memory, "profile", "42", '"outside failed"');
          throw new Error("outside failed");
        }),
        /outside failed/,
      );
      const record = await store.readMemory("profile", "42");
      assert.deepEqual(record, {
        namespace: "profile",
        key: "42",
        value: '{"tier":"gold"}',
        version: 1,
        updatedAt: T0,
        runId: "m",
        by: null,
      });
      assert.equal((await store.readJournal("m")).length, 3);
      assert.equal((await store.memoryHistory("profile", "42", 10)).length, 1);
    },
  },
  {
    name: "concurrent read-modify-writes of one key are serialized and lose nothing",
    async run(store) {
      await Promise.all(Array.from({ length: 20 }, () => increment(store, "c")));
      const record = await store.readMemory("counters", "c");
      assert.equal(record?.value, "20");
      assert.equal(record?.version, 20);
      const versions = (await store.memoryHistory("counters", "c", 100)).map((c) => c.value);
      assert.deepEqual(
        versions,
        Array.from({ length: 20 }, (_, i) => String(20 - i)),
        "each write saw the one before it",
      );
    },
  },
  {
    name: "a key's history says who wrote each version, newest first, and keeps the last ones",
    async run(store) {
      await store.memoryTransaction(async (memory) => {
        await memory.read("notes", "k");
        await put(memory, "notes", "k", '"one"', { at: T0 + 1, runId: "r1", position: 4 });
        await put(memory, "notes", "k", '"two"', { at: T0 + 2, by: "maria@acme.io" });
      });
      const history = await store.memoryHistory("notes", "k", 10);
      assert.deepEqual(history, [
        {
          namespace: "notes",
          key: "k",
          version: 2,
          value: '"two"',
          at: T0 + 2,
          runId: null,
          position: null,
          by: "maria@acme.io",
        },
        {
          namespace: "notes",
          key: "k",
          version: 1,
          value: '"one"',
          at: T0 + 1,
          runId: "r1",
          position: 4,
          by: null,
        },
      ]);
      assert.equal((await store.memoryHistory("notes", "k", 1)).length, 1);
      const total = MEMORY_HISTORY_PER_KEY_MAX + 3;
      await store.memoryTransaction(async (memory) => {
        await memory.read("notes", "many");
        for (let i = 1; i <= total; i++) await put(memory, "notes", "many", String(i));
      });
      const kept = await store.memoryHistory("notes", "many", 1_000);
      assert.equal(kept.length, MEMORY_HISTORY_PER_KEY_MAX);
      assert.equal(kept[0]?.version, total);
      assert.equal(kept.at(-1)?.version, total - MEMORY_HISTORY_PER_KEY_MAX + 1);
      assert.equal((await store.readMemory("notes", "many"))?.value, String(total));
    },
  },
  {
    name: "memory lists keys by prefix in key order, pages after a key, and counts namespaces",
    async run(store) {
      await store.memoryTransaction(async (memory) => {
        for (const key of ["b", "a/2", "a/1", "a/10", "a", "ab", "é/1"])
          await put(memory, "ns", key, JSON.stringify(key), { at: T0 + key.length });
        await put(memory, "zz", "x", "1", { at: T0 + 50 });
      });
      const keys = async (prefix?: string, after?: string, limit = 10) =>
        (
          await store.listMemory({
            namespace: "ns",
            limit,
            ...(prefix === undefined ? {} : { prefix }),
            ...(after === undefined ? {} : { after }),
          })
        ).map((r) => r.key);
      assert.deepEqual(await keys(), ["a", "a/1", "a/10", "a/2", "ab", "b", "é/1"]);
      assert.deepEqual(await keys("a/"), ["a/1", "a/10", "a/2"]);
      assert.deepEqual(await keys("a/", "a/1"), ["a/10", "a/2"]);
      assert.deepEqual(await keys("a", undefined, 2), ["a", "a/1"]);
      assert.deepEqual(await keys("é"), ["é/1"]);
      assert.deepEqual(await keys("nothing"), []);
      assert.deepEqual(await store.listMemoryNamespaces(), [
        { namespace: "ns", keys: 7, updatedAt: T0 + 4 },
        { namespace: "zz", keys: 1, updatedAt: T0 + 50 },
      ]);
      assert.equal(await store.readMemory("ns", "missing"), null);
      assert.equal(await store.readMemory("other", "a"), null);
    },
  },
  {
    name: "memory retention deletes a namespace's keys written before the cutoff, with their history",
    async run(store) {
      await store.memoryTransaction(async (memory) => {
        for (let i = 0; i < 5; i++) await put(memory, "session", `s${i}`, "1", { at: T0 + i });
        await put(memory, "profile", "p", "1", { at: T0 });
      });
      assert.equal(await store.deleteMemory("session", T0 + 3, 2), 2);
      assert.equal(await store.deleteMemory("session", T0 + 3, 10), 1);
      assert.equal(await store.deleteMemory("session", T0 + 3, 10), 0);
      const left = await store.listMemory({ namespace: "session", limit: 10 });
      assert.deepEqual(
        left.map((r) => r.key),
        ["s3", "s4"],
      );
      assert.deepEqual(await store.memoryHistory("session", "s0", 10), []);
      assert.equal((await store.memoryHistory("session", "s3", 10)).length, 1);
      assert.equal((await store.readMemory("profile", "p"))?.version, 1);
    },
  },
];
