// Concurrent sendEvent calls share transactions on both stores: more calls at once than one
// batch holds are all stored and delivered once (the same id twice stored once), an event
// that cannot be stored fails alone, and on SQLite events waiting for their commit share the
// transactions of claims and step commits.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import type { NewEntry } from "../../src/core/journal.js";
import { canonicalMatch } from "../../src/core/match.js";
import { encodeValue } from "../../src/core/serialize.js";
import { EVENT_BATCH_MAX } from "../../src/store/event-queue.js";
import type { Store } from "../../src/store/store.js";
import { onCleanup, tempDir } from "../helpers.js";
import { openStore } from "../support/postgres.js";

const T0 = 1_700_000_000_000;
const entry = (type: NewEntry["type"], position: number | null = null): NewEntry => ({
  type,
  at: T0,
  position,
  key: position === null ? null : `go#${position}`,
  data: null,
});

async function waitingRuns(store: Store, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `run-${i}`);
  await store.commit({
    creates: ids.map((id) => ({
      id,
      workflow: "wf",
      version: null,
      input: "null",
      started: entry("run_started"),
      claim: { workerId: "w1", leaseMs: 60_000 },
      deadlineAt: null,
      priority: 0,
      concurrencyKey: null,
    })),
    writes: [],
    now: T0,
  });
  const result = await store.commit({
    creates: [],
    writes: ids.map((runId, i) => ({
      runId,
      epoch: 1,
      entries: [entry("wait_started", 2)],
      update: { status: "waiting", wakeAt: null },
      waits: [
        {
          position: 2,
          key: "go#2",
          kind: "event",
          target: "go",
          match: canonicalMatch({ "data.k": i }, "test"),
          timeoutAt: T0 + 86_400_000,
          details: null,
        },
      ],
    })),
    now: T0,
  });
  expect(result.writes.every((w) => w.kind === "committed")).toBe(true);
  return ids;
}

const send = (store: Store, id: string, data: string) =>
  store.sendEvent({ id, name: "go", data }, T0);

const stores: Array<[string, () => Promise<Store>]> = [
  [
    "SQLite",
    async () => {
      const store = sqliteStore(join(tempDir(), "events.db"));
      await store.open();
      onCleanup(() => store.close());
      return store;
    },
  ],
  ["PostgreSQL", () => openStore()],
];

for (const [name, open] of stores) {
  describe(`${name}: events sent at once`, () => {
    it(`stores and delivers ${EVENT_BATCH_MAX + 1} events sent at once, each once`, async () => {
      const store = await open();
      const n = EVENT_BATCH_MAX + 1;
      const ids = await waitingRuns(store, n);
      const results = await Promise.all([
        ...ids.map((_, i) => send(store, `e${i}`, encodeValue({ k: i }, "data"))),
        send(store, "e0", encodeValue({ k: 0 }, "data")),
      ]);
      expect(results.filter((r) => r.created)).toHaveLength(n);
      expect(results.at(-1)?.created).toBe(false);
      expect(results.at(-1)?.woken).toEqual([]);
      expect(results.flatMap((r) => r.woken)).toHaveLength(n);
      expect(new Set(results.filter((r) => r.created).map((r) => r.event.pos)).size).toBe(n);
      for (const id of ids) {
        const wait = await store.getWait(id, 2);
        expect(wait?.status, id).toBe("satisfied");
        expect((await store.getRun(id))?.status, id).toBe("pending");
      }
    });

    it("fails only the event that cannot be stored, not those sharing its batch", async () => {
      const store = await open();
      const ids = await waitingRuns(store, 6);
      const outcomes = await Promise.allSettled([
        ...ids.map((_, i) => send(store, `ok${i}`, encodeValue({ k: i }, "data"))),
        send(store, "broken", "{not json"),
      ]);
      expect(outcomes.slice(0, 6).every((o) => o.status === "fulfilled")).toBe(true);
      expect(outcomes[6]?.status).toBe("rejected");
      for (const id of ids) expect((await store.getWait(id, 2))?.status).toBe("satisfied");
      expect((await store.eventsAfter("go", 0, 100)).map((e) => e.id).sort()).toEqual(
        ids.map((_, i) => `ok${i}`).sort(),
      );
    });
  });
}

describe("SQLite: events waiting for their commit", () => {
  it("share the transaction of a claim, which then sees the runs they woke", async () => {
    const store = await (stores[0] as [string, () => Promise<Store>])[1]();
    const ids = await waitingRuns(store, 3);
    // The first call commits at once; the two made meanwhile wait, and the claim takes them.
    const first = send(store, "a", encodeValue({ k: 0 }, "data"));
    const others = [1, 2].map((k) => send(store, `b${k}`, encodeValue({ k }, "data")));
    const claimed = await store.claim({
      workerId: "w2",
      workflows: ["wf"],
      limit: 10,
      leaseMs: 60_000,
      now: T0,
      recovering: false,
      concurrency: {},
    });
    await Promise.all([first, ...others]);
    expect(claimed.map((c) => c.run.id).sort()).toEqual(ids);
  });
});
