// A run's output stream holds streamPartsMax parts: the last place gets a stream-full part
// and later parts are dropped, on SQLite and on PostgreSQL, across batches and in one batch.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { InvalidArgumentError } from "endure";
import type { NewChunk } from "../../src/core/stream.js";
import type { Store } from "../../src/store/store.js";
import { onCleanup, tempDir } from "../helpers.js";
import { openStore } from "../support/postgres.js";

const T0 = 1_700_000_000_000;
const MAX = 4;

const stores: Array<[string, () => Promise<Store>]> = [
  [
    "SQLite",
    async () => {
      const store = sqliteStore(join(tempDir(), "limit.db"), { streamPartsMax: MAX });
      await store.open();
      onCleanup(() => store.close());
      return store;
    },
  ],
  ["PostgreSQL", () => openStore(undefined, { streamPartsMax: MAX })],
];

function part(n: number, key: string | null = null): NewChunk {
  return { key, at: T0 + n, data: JSON.stringify({ type: "data-n", data: n }) };
}

async function claimedRun(store: Store, id: string): Promise<void> {
  await store.commit({
    creates: [
      {
        id,
        workflow: "wf",
        version: null,
        input: "null",
        started: { type: "run_started", at: T0, position: null, key: null, data: null },
        claim: { workerId: "w", leaseMs: 60_000 },
        deadlineAt: null,
        priority: 0,
        concurrencyKey: null,
      },
    ],
    writes: [],
    now: T0,
  });
}

async function write(store: Store, runId: string, chunks: NewChunk[]): Promise<void> {
  const result = await store.commit({
    creates: [],
    writes: [{ runId, epoch: 1, entries: [], update: null, chunks }],
    now: T0,
  });
  expect(result.writes[0]?.kind).toBe("committed");
}

async function types(store: Store, runId: string): Promise<string[]> {
  const parts = await store.readStream(runId, 0, 100);
  expect(parts.map((p) => p.offset)).toEqual(parts.map((_, i) => i));
  return parts.map((p) => {
    const decoded = JSON.parse(p.data) as { type: string; data: unknown };
    return decoded.type === "data-n" ? String(decoded.data) : decoded.type;
  });
}

for (const [name, open] of stores) {
  describe(`${name}: streamPartsMax`, () => {
    it("keeps MAX - 1 parts below the limit, then one stream-full part, then nothing", async () => {
      const store = await open();
      await claimedRun(store, "edge");
      // Up to one below the last place: parts as written.
      await write(store, "edge", [part(0), part(1), part(2)]);
      expect(await types(store, "edge")).toEqual(["0", "1", "2"]);
      // The last place: the stream-full part instead, and the rest dropped.
      await write(store, "edge", [part(3, "k3"), part(4)]);
      await write(store, "edge", [part(5)]);
      expect(await types(store, "edge")).toEqual(["0", "1", "2", "data-endure-stream-full"]);
      const [full] = await store.readStream("edge", MAX - 1, 1);
      expect(JSON.parse(full?.data ?? "{}")).toEqual({
        type: "data-endure-stream-full",
        data: { limit: MAX },
      });

      await claimedRun(store, "one-batch");
      await write(
        store,
        "one-batch",
        [0, 1, 2, 3, 4, 5, 6].map((n) => part(n)),
      );
      expect(await types(store, "one-batch")).toEqual(["0", "1", "2", "data-endure-stream-full"]);
    });
  });
}

describe("streamPartsMax option", () => {
  it("refuses a limit that is not a whole number of at least 1", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => sqliteStore(join(tempDir(), "x.db"), { streamPartsMax: bad })).toThrow(
        InvalidArgumentError,
      );
      expect(() => postgresStore("postgres://localhost/x", { streamPartsMax: bad })).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => sqliteStore(join(tempDir(), "x.db"), { streamPartsMax: 1 })).not.toThrow();
  });
});
