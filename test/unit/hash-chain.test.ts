// The hash chain's bookkeeping: the last hashes of at most CHAIN_HEADS_MAX runs are kept, and
// a run whose hash was dropped reads it back from its journal, so its chain goes on unbroken.
import { describe, expect, it } from "vitest";
import { CHAIN_HEADS_MAX } from "endure";
import { sqliteStore } from "endure/sqlite";
import { chainedStore } from "../../src/protect/chained-store.js";
import type { NewEntry } from "../../src/core/journal.js";

const entry = (type: NewEntry["type"], at: number, data: string | null): NewEntry => ({
  type,
  at,
  position: null,
  key: null,
  data,
});

describe("hash chain heads", () => {
  it(`keeps at most its limit (default CHAIN_HEADS_MAX = ${CHAIN_HEADS_MAX}) and reads a dropped one back`, async () => {
    expect(CHAIN_HEADS_MAX).toBe(10_000);
    const inner = sqliteStore(":memory:");
    const store = chainedStore(inner, true, 2);
    await store.open();
    const ids = ["r1", "r2", "r3"];
    await store.commit({
      now: 1,
      writes: [],
      creates: ids.map((id) => ({
        id,
        workflow: "w",
        version: null,
        input: '{"n":1}',
        started: entry("run_started", 1, '{"workflow":"w","version":null}'),
        claim: { workerId: "me", leaseMs: 60_000 },
        priority: 0,
        concurrencyKey: null,
        deadlineAt: null,
      })),
    });
    // The limit holds: r1's head was dropped for r3's.
    expect(store.headsKept).toBe(2);
    for (const id of ids) {
      const run = await store.getRun(id);
      const result = await store.commit({
        now: 2,
        creates: [],
        writes: [
          {
            runId: id,
            epoch: run?.epoch ?? 0,
            entries: [entry("value_recorded", 2, "0.5")],
            update: null,
          },
        ],
      });
      expect(result.writes[0]?.kind).toBe("committed");
    }
    expect(store.headsKept).toBe(2);
    for (const id of ids) {
      expect(await store.verify(id)).toMatchObject({ ok: true, entries: 2, chained: 2 });
      // Readers see the data as written, without the hash.
      expect((await store.readJournal(id)).map((e) => e.data)).toEqual([
        '{"workflow":"w","version":null}',
        "0.5",
      ]);
    }
    await store.close();
  });
});
