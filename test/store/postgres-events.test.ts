// Events on PostgreSQL from several stores (pools) at once: unrelated events commit in
// parallel, and still no wake-up is lost when an event and its wait are created at the same
// moment (also for a match shape nobody used before), the events of one key reach its waits
// in the order they were sent, a batch of concurrent calls over the batch limit delivers every
// event once, and a wake-up names only the workers concerned.
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { NewEntry } from "../../src/core/journal.js";
import { canonicalMatch } from "../../src/core/match.js";
import type { WaitRequest } from "../../src/core/run-port.js";
import { decodeValue, encodeValue } from "../../src/core/serialize.js";
import { EVENT_BATCH_MAX } from "../../src/store/event-queue.js";
import { migrationSql, SCHEMA_VERSION } from "../../src/store/postgres/schema.js";
import type { Store, StoreWake } from "../../src/store/store.js";
import { freshDatabase, openStore } from "../support/postgres.js";

const T0 = 1_700_000_000_000;

function entry(type: NewEntry["type"], position: number | null = null, key: string | null = null) {
  return { type, at: T0, position, key, data: null } satisfies NewEntry;
}

async function createRuns(store: Store, ids: readonly string[], owner: string): Promise<void> {
  const result = await store.commit({
    creates: ids.map((id) => ({
      id,
      workflow: "wf",
      version: null,
      input: "null",
      started: entry("run_started"),
      claim: { workerId: owner, leaseMs: 60_000 },
      deadlineAt: null,
      priority: 0,
      concurrencyKey: null,
    })),
    writes: [],
    now: T0,
  });
  expect(result.creates.every((c) => c.created)).toBe(true);
}

function eventWait(position: number, name: string, match: Record<string, unknown>): WaitRequest {
  return {
    position,
    key: `${name}#${position}`,
    kind: "event",
    target: name,
    match: canonicalMatch(match, "test"),
    timeoutAt: T0 + 86_400_000,
    details: null,
  };
}

async function addWait(
  store: Store,
  runId: string,
  wait: WaitRequest,
  evict = false,
): Promise<void> {
  const result = await store.commit({
    creates: [],
    writes: [
      {
        runId,
        epoch: 1,
        entries: [entry("wait_started", wait.position, wait.key)],
        update: evict ? { status: "waiting", wakeAt: null } : null,
        waits: [wait],
      },
    ],
    now: T0,
  });
  expect(result.writes[0]?.kind).toBe("committed");
}

function send(store: Store, id: string, name: string, data: unknown) {
  return store.sendEvent({ id, name, data: encodeValue(data, "event data") }, T0);
}

const shuffled = <T>(xs: readonly T[]): T[] =>
  xs
    .map((x) => ({ x, r: Math.random() }))
    .sort((a, b) => a.r - b.r)
    .map(({ x }) => x);

describe("events on PostgreSQL from several stores at once", () => {
  it("loses no wake-up when events and their waits are created at the same moment", async () => {
    const url = await freshDatabase();
    const waiter = await openStore(url);
    const senders = [await openStore(url), await openStore(url)];
    const n = 120;
    const ids = Array.from({ length: n }, (_, i) => `r${i}`);
    await createRuns(waiter, ids, "w1");
    // Every fifth run waits with a shape of its own that no wait used before, so that events
    // of that name must learn it while they are being sent.
    const matchOf = (i: number): Record<string, unknown> =>
      i % 5 === 0 ? { "data.k": i, [`data.s${i}`]: true } : { "data.k": i };
    const dataOf = (i: number) => ({ k: i, [`s${i}`]: true });
    await Promise.all([
      ...shuffled(ids.map((_, i) => i)).map((i) =>
        addWait(waiter, `r${i}`, eventWait(2, "race", matchOf(i))),
      ),
      ...shuffled(ids.map((_, i) => i)).map((i) =>
        send(senders[i % 2] as Store, `e${i}`, "race", dataOf(i)),
      ),
    ]);
    for (let i = 0; i < n; i++) {
      const w = await waiter.getWait(`r${i}`, 2);
      expect(w?.status, `wait of run r${i}`).toBe("satisfied");
      expect((decodeValue(w?.value ?? "null") as { id: string }).id).toBe(`e${i}`);
    }
  });

  it("delivers the events of one key in the order they were sent, buffered or not", async () => {
    const url = await freshDatabase();
    const waiter = await openStore(url);
    const sender = await openStore(url);
    const noise = await openStore(url);
    await createRuns(waiter, ["ordered"], "w1");
    const m = 40;
    let noiseOn = true;
    const background = (async () => {
      for (let i = 0; noiseOn; i++) await send(noise, `noise-${i}`, "tick", { k: "other" });
    })();
    const sending = (async () => {
      for (let i = 1; i <= m; i++) await send(sender, `o${i}`, "tick", { k: "ordered", i });
    })();
    // The run reads one event at a time: some were sent before its wait, some after.
    for (let p = 1; p <= m; p++) {
      await addWait(waiter, "ordered", eventWait(p + 1, "tick", { "data.k": "ordered" }));
      for (;;) {
        const w = await waiter.getWait("ordered", p + 1);
        if (w?.status === "satisfied") {
          expect((decodeValue(w.value ?? "null") as { data: { i: number } }).data.i).toBe(p);
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    await sending;
    noiseOn = false;
    await background;
  });

  it(`stores and delivers ${EVENT_BATCH_MAX + 1} concurrent events once each, duplicates too`, async () => {
    const store = await openStore();
    const n = EVENT_BATCH_MAX + 1;
    const ids = Array.from({ length: n }, (_, i) => `b${i}`);
    await createRuns(store, ids, "w1");
    for (let i = 0; i < n; i++)
      await addWait(store, `b${i}`, eventWait(2, "batch", { "data.k": i }));
    const results = await Promise.all([
      ...ids.map((_, i) => send(store, `x${i}`, "batch", { k: i })),
      send(store, "x0", "batch", { k: 0 }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(n);
    expect(results.filter((r) => !r.created).map((r) => r.event.id)).toEqual(["x0"]);
    expect(results.flatMap((r) => r.woken)).toHaveLength(n);
    const positions = results.filter((r) => r.created).map((r) => r.event.pos);
    expect(new Set(positions).size).toBe(n);
    for (let i = 0; i < n; i++) expect((await store.getWait(`b${i}`, 2))?.status).toBe("satisfied");
  });

  it("wakes the owner of a run held in memory, and the workers of a waiting run's workflow", async () => {
    const url = await freshDatabase();
    const store = await openStore(url);
    const watcher = await openStore(url);
    await createRuns(store, ["held", "evicted"], "w-held");
    await addWait(store, "held", eventWait(2, "wake", { "data.k": "held" }));
    await addWait(store, "evicted", eventWait(2, "wake", { "data.k": "evicted" }), true);
    const wakes: StoreWake[] = [];
    const stop = watcher.watch?.((w) => wakes.push(w));
    await watcher.listening();
    await new Promise((r) => setTimeout(r, 50));
    wakes.length = 0;
    await send(store, "h", "wake", { k: "held" });
    await send(store, "e", "wake", { k: "evicted" });
    await send(store, "n", "wake", { k: "nobody" });
    for (let i = 0; wakes.length < 2 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    stop?.();
    expect(wakes).toEqual([
      { workflows: [], wakeAt: null, owners: ["w-held"] },
      { workflows: ["wf"], wakeAt: null, owners: [] },
    ]);
  });

  it("migrates a database of version 2: new events are numbered past the old, old waits' shapes kept", async () => {
    const url = await freshDatabase();
    const client = new pg.Client(url);
    await client.connect();
    try {
      // A database as version 2 left it: events numbered under one lock, an open event wait.
      await client.query("CREATE SCHEMA endure");
      await client.query(
        "CREATE TABLE endure.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      for (const v of [1, 2]) {
        await client.query(migrationSql(v, "endure"));
        await client.query("INSERT INTO endure.migrations (version) VALUES ($1)", [v]);
      }
      await client.query(
        `INSERT INTO endure.events (pos, id, name, data, received_at)
         VALUES (7, 'old-7', 'mig', 'null', 1), (9, 'old-9', 'mig', 'null', 1)`,
      );
      await client.query(
        `INSERT INTO endure.runs (id, workflow, status, input, created_at, updated_at, event_cursor)
         VALUES ('m', 'wf', 'waiting', 'null', 1, 1, 9)`,
      );
      await client.query(
        `INSERT INTO endure.waits (run_id, position, key, kind, target, match_paths, match_key,
           timeout_at, status, created_at)
         VALUES ('m', 2, 'mig#2', 'event', 'mig', '["data.k"]', '[1]', ${T0 + 86_400_000}, 'open', 1)`,
      );
    } finally {
      await client.end();
    }
    const store = await openStore(url);
    expect(store.migration).toEqual({ from: 2, to: SCHEMA_VERSION });
    const sent = await send(store, "new", "mig", { k: 1 });
    expect(sent.event.pos).toBe(10);
    expect(sent.woken).toEqual([{ runId: "m", position: 2 }]);
    expect(await store.lastEventPos()).toBe(10);
  });
});
