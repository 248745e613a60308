// Proves the exported store conformance suite lets a third party prove its store: endure's
// SQLite store passes every case through runStoreConformance, and a store that forgets to
// fence stale writes fails the cases that check fencing.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Store } from "endure";
import { sqliteStore } from "endure/sqlite";
import { runStoreConformance, storeConformanceCases } from "endure/testing";
import { tempDir } from "../helpers.js";

const openSqlite = async (): Promise<Store> => {
  const store = sqliteStore(join(tempDir(), "c.db"));
  await store.open();
  return store;
};

describe("exported store conformance", () => {
  it("passes endure's SQLite store on every case", async () => {
    const report = await runStoreConformance(openSqlite);
    expect(report.failed.map((f) => `${f.name}: ${f.error.message}`)).toEqual([]);
    expect(report.passed).toHaveLength(storeConformanceCases.length);
  }, 120_000);

  it("fails a store that ignores epochs", async () => {
    const report = await runStoreConformance(async () => {
      const store = await openSqlite();
      // A store that writes with whatever epoch it is given is not fenced.
      const commit = store.commit.bind(store);
      store.commit = async (batch) => {
        const runs = await Promise.all(batch.writes.map((w) => store.getRun(w.runId)));
        return commit({
          ...batch,
          writes: batch.writes.map((w, i) => ({ ...w, epoch: runs[i]?.epoch ?? w.epoch })),
        });
      };
      return store;
    });
    expect(report.failed.length).toBeGreaterThan(0);
  }, 120_000);
});
