// Conformance cases for output streams and usage totals: parts ride with fenced writes, get
// dense offsets in order, skip keys already written; entries with usage add to their run.
import assert from "node:assert/strict";
import { entryData } from "../core/entry-data.js";
import type { NewEntry } from "../core/journal.js";
import type { NewChunk } from "../core/stream.js";
import type { ConformanceCase } from "./conformance-case.js";
import type { RunWrite, Store } from "./store.js";

const T0 = 1_700_000_000_000;
const claim = { workerId: "w1", leaseMs: 30_000 };

function started(): NewEntry {
  return { type: "run_started", at: T0, position: null, key: null, data: null };
}

async function createClaimed(store: Store, ...ids: string[]): Promise<void> {
  await store.commit({
    creates: ids.map((id) => ({
      id,
      workflow: "wf",
      version: null,
      input: "null",
      started: started(),
      claim,
      deadlineAt: null,
      priority: 0,
      concurrencyKey: null,
    })),
    writes: [],
    now: T0,
  });
}

function part(n: number, key: string | null = null): NewChunk {
  return { key, at: T0 + n, data: JSON.stringify({ type: "data-n", data: n }) };
}

function write(runId: string, chunks: NewChunk[], epoch = 1, entries: NewEntry[] = []): RunWrite {
  return { runId, epoch, entries, update: null, chunks };
}

async function offsetsAndData(store: Store, runId: string, from = 0, limit = 100) {
  const chunks = await store.readStream(runId, from, limit);
  return chunks.map((c) => [c.offset, (JSON.parse(c.data) as { data: number }).data]);
}

function meteredStep(position: number, inputTokens: number, outputTokens: number, costUsd: number) {
  const key = `model#${position}`;
  const usage = { inputTokens, outputTokens, costUsd };
  return [
    {
      type: "step_attempt_started",
      at: T0,
      position,
      key,
      data: entryData.step_attempt_started({ attempt: 1, site: null }),
    },
    {
      type: "step_succeeded",
      at: T0,
      position,
      key,
      data: entryData.step_succeeded({ attempt: 1, usage, result: "1" }),
      usage,
    },
  ] satisfies NewEntry[];
}

/** The cases, registered with the rest of the suite. */
export const streamConformanceCases: readonly ConformanceCase[] = [
  {
    name: "output-stream parts get offsets from 0 in write order and read back by page",
    async run(store) {
      await createClaimed(store, "s1", "s2");
      await store.commit({
        creates: [],
        writes: [write("s1", [part(0), part(1)]), write("s2", [part(100)])],
        now: T0,
      });
      await store.commit({ creates: [], writes: [write("s1", [part(2), part(3)])], now: T0 });
      assert.deepEqual(await offsetsAndData(store, "s1"), [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      assert.deepEqual(await offsetsAndData(store, "s1", 1, 2), [
        [1, 1],
        [2, 2],
      ]);
      assert.deepEqual(await offsetsAndData(store, "s1", 4), [], "past the end reads nothing");
      assert.deepEqual(await offsetsAndData(store, "s2"), [[0, 100]], "streams are per run");
      assert.deepEqual(await store.readStream("nope", 0, 10), []);
      const [first] = await store.readStream("s1", 0, 1);
      assert.equal(first?.at, T0);
    },
  },
  {
    name: "a part whose key the stream holds is skipped without taking an offset",
    async run(store) {
      await createClaimed(store, "k");
      await store.commit({
        creates: [],
        writes: [write("k", [part(0, "w0"), part(1), part(2, "w1")])],
        now: T0,
      });
      await store.commit({
        creates: [],
        writes: [write("k", [part(0, "w0"), part(2, "w1"), part(3, "w2"), part(4)])],
        now: T0,
      });
      // A key twice in one write: the first is kept.
      await store.commit({
        creates: [],
        writes: [write("k", [part(5, "w3"), part(9, "w3"), part(6)])],
        now: T0,
      });
      assert.deepEqual(await offsetsAndData(store, "k"), [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 6],
      ]);
    },
  },
  {
    name: "a fenced write drops its parts; a new epoch appends after the last part",
    async run(store) {
      await createClaimed(store, "f");
      await store.commit({ creates: [], writes: [write("f", [part(0)])], now: T0 });
      const stale = await store.commit({
        creates: [],
        writes: [write("f", [part(9)], 7)],
        now: T0,
      });
      assert.equal(stale.writes[0]?.kind, "fenced");
      await store.commit({
        creates: [],
        writes: [{ runId: "f", epoch: 1, entries: [], update: { status: "pending" } }],
        now: T0,
      });
      const [claimed] = await store.claim({
        workerId: "w2",
        workflows: ["wf"],
        limit: 1,
        leaseMs: 30_000,
        now: T0,
        recovering: false,
        concurrency: {},
      });
      assert.equal(claimed?.run.epoch, 2);
      await store.commit({ creates: [], writes: [write("f", [part(1)], 2)], now: T0 });
      assert.deepEqual(await offsetsAndData(store, "f"), [
        [0, 0],
        [1, 1],
      ]);
    },
  },
  {
    name: "entries with usage add to their run's totals, also in transactions; fenced ones do not",
    async run(store) {
      await createClaimed(store, "u", "v");
      const fresh = await store.getRun("u");
      assert.deepEqual(fresh?.usage, { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 });
      await store.commit({
        creates: [],
        writes: [
          { runId: "u", epoch: 1, entries: meteredStep(1, 100, 20, 0.25), update: null },
          { runId: "v", epoch: 9, entries: meteredStep(1, 5, 5, 5), update: null },
        ],
        now: T0,
      });
      const done = await store.transaction("u", 1, T0, meteredStep(2, 50, 10, 0.5), async () => [
        meteredStep(3, 1, 2, 0)[1] as NewEntry,
      ]);
      assert.equal(done.kind, "committed");
      const u = await store.getRun("u");
      assert.deepEqual(u?.usage, { inputTokens: 151, outputTokens: 32, costUsd: 0.75, calls: 3 });
      assert.equal((await store.getRun("v"))?.usage.calls, 0);
      const journal = await store.readJournal("u");
      const last = journal.at(-1);
      assert.equal(last?.type, "step_succeeded");
      assert.match(last?.data ?? "", /"usage":\{"inputTokens":1,"outputTokens":2,"costUsd":0\}/);
      const listed = await store.listRuns({ limit: 10, workflow: "wf" });
      assert.equal(listed.runs.find((r) => r.id === "u")?.usage.inputTokens, 151);
      // The last call lands with the run's end; another run's call in the same batch too.
      await createClaimed(store, "w");
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "u",
            epoch: 1,
            entries: meteredStep(4, 1000, 100, 1),
            update: { status: "completed", output: "1" },
          },
          { runId: "w", epoch: 1, entries: meteredStep(1, 7, 3, 0.125), update: null },
        ],
        now: T0,
      });
      const ended = await store.getRun("u");
      assert.equal(ended?.status, "completed");
      assert.deepEqual(ended?.usage, {
        inputTokens: 1151,
        outputTokens: 132,
        costUsd: 1.75,
        calls: 4,
      });
      assert.deepEqual((await store.getRun("w"))?.usage, {
        inputTokens: 7,
        outputTokens: 3,
        costUsd: 0.125,
        calls: 1,
      });
    },
  },
  {
    name: "retention deletes a finished run's output stream with the run",
    async run(store) {
      await createClaimed(store, "gone", "kept");
      await store.commit({
        creates: [],
        writes: [
          { ...write("gone", [part(0), part(1)]), update: { status: "completed", output: "1" } },
          write("kept", [part(5)]),
        ],
        now: T0 + 1,
      });
      assert.deepEqual(await store.deleteFinishedRuns(T0 + 50, 10), ["gone"]);
      assert.deepEqual(await store.readStream("gone", 0, 10), []);
      assert.deepEqual(await offsetsAndData(store, "kept"), [[0, 5]]);
    },
  },
];
