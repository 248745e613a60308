// Proves one poisoned run never stops others, on real PostgreSQL and real SQLite: when a group
// commit fails because of one run's entries (here a NUL, written past the engine's boundary
// checks straight into the committer), the committer commits every other run of the batch
// and reports only that run as poisoned, with the store's reason.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NewEntry } from "../../src/core/journal.js";
import { create, entry, T0 } from "../../src/store/conformance-case.js";
import type { Store } from "../../src/store/store.js";
import { sqliteStore } from "endure/sqlite";
import { Committer } from "../../src/worker/committer.js";
import { onCleanup, tempDir } from "../helpers.js";
import { openStore } from "../support/postgres.js";

const clock = { now: () => T0, setTimer: () => ({ cancel: () => undefined }) };

async function sqlite(): Promise<Store> {
  const store = sqliteStore(join(tempDir(), "poison.db"), { durability: "process" });
  await store.open();
  onCleanup(() => store.close());
  return store;
}

describe.each([
  ["postgres", () => openStore()],
  ["sqlite", sqlite],
])("a poisoned run in a group commit on %s", (_name, open) => {
  it("commits the other runs of the batch and reports only the poisoned one", async () => {
    const store = await open();
    const ids = Array.from({ length: 8 }, (_, i) => `run-${i}`);
    await store.commit({
      creates: ids.map((id) => create(id, "wf", { workerId: "w1", leaseMs: 30_000 })),
      writes: [],
      now: T0,
    });
    const failed: Array<[string, string]> = [];
    const poisoned: Array<[string, string]> = [];
    const committer = new Committer(store, clock, {
      fenced: () => undefined,
      failed: (runId, _epoch, e) => failed.push([runId, e.message]),
      poisoned: (runId, _epoch, e) => poisoned.push([runId, e.message]),
    });
    const step = (key: string): NewEntry => entry("step_succeeded", T0, 1, key, '{"v":1}');
    for (const id of ids) committer.append(id, 1, step(id === "run-3" ? "bad\u0000key" : "ok"));
    // SQLite keeps a NUL in text; PostgreSQL refuses it, failing the statement of the batch.
    await Promise.race([
      Promise.all(ids.filter((id) => id !== "run-3").map((id) => committer.durable(id))),
      new Promise((_, reject) => setTimeout(() => reject(new Error("commits hang")), 20_000)),
    ]);
    await committer.flushAll();
    for (const id of ids.filter((i) => i !== "run-3")) {
      const journal = await store.readJournal(id);
      expect(
        journal.map((e) => e.type),
        id,
      ).toEqual(["run_started", "step_succeeded"]);
    }
    expect(failed).toEqual([]);
    if (_name === "postgres") {
      expect(poisoned.map(([id]) => id)).toEqual(["run-3"]);
      expect(poisoned[0]?.[1]).toMatch(/0x00|null character|invalid byte/i);
      expect((await store.readJournal("run-3")).map((e) => e.type)).toEqual(["run_started"]);
    }
  });
});
