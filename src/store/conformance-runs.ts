// Conformance cases for runs, journals, leases, cancellation and transactions.
import assert from "node:assert/strict";
import {
  claimOne,
  create,
  createRuns,
  entry,
  lapse,
  LEASE,
  SHORT,
  T0,
  type ConformanceCase,
} from "./conformance-case.js";
import type { Store } from "./store.js";

function placeholder(store: Store, n: number): string {
  return store.dialect === "postgres" ? `$${n}` : "?";
}

/** The cases. */
/** The cases about runs, journals, leases, cancellation and transactions. */
export const runCases: readonly ConformanceCase[] = [
  {
    name: "creating a run is idempotent on its id",
    async run(store) {
      const [first] = await createRuns(store, create("r1"));
      assert.equal(first?.created, true);
      assert.equal(first?.run.status, "pending");
      assert.equal(first?.run.epoch, 0);
      const [second] = await createRuns(store, { ...create("r1"), input: '"other"' });
      assert.equal(second?.created, false);
      assert.equal(second?.run.input, '{"n":1}');
      const journal = await store.readJournal("r1");
      assert.deepEqual(
        journal.map((e) => e.type),
        ["run_started"],
      );
    },
  },
  {
    name: "a run created with a claim is running under that worker at epoch 1",
    async run(store) {
      const [r] = await createRuns(store, create("r1", "wf", { workerId: "w1", leaseMs: LEASE }));
      assert.equal(r?.run.status, "running");
      assert.equal(r?.run.owner, "w1");
      assert.equal(r?.run.epoch, 1);
      const [p] = await createRuns(
        store,
        create("r2", "wf", null, { priority: 7, concurrencyKey: "k" }),
      );
      assert.equal(p?.run.priority, 7);
      assert.equal(p?.run.concurrencyKey, "k");
      assert.equal((await store.getRun("r2"))?.concurrencyKey, "k");
    },
  },
  {
    name: "writes with the current epoch commit entries in order; stale epochs are fenced alone",
    async run(store) {
      await createRuns(
        store,
        create("a", "wf", { workerId: "w1", leaseMs: LEASE }),
        create("b", "wf", { workerId: "w1", leaseMs: LEASE }),
      );
      const result = await store.commit({
        creates: [],
        writes: [
          {
            runId: "a",
            epoch: 1,
            entries: [
              entry("step_attempt_started", T0, 1, "s#1"),
              entry("step_succeeded", T0, 1, "s#1", '{"result":1}'),
            ],
            update: null,
          },
          { runId: "b", epoch: 7, entries: [entry("step_succeeded", T0, 1, "s#1")], update: null },
          { runId: "missing", epoch: 1, entries: [entry("step_succeeded")], update: null },
        ],
        now: T0,
      });
      assert.deepEqual(
        result.writes.map((w) => w.kind),
        ["committed", "fenced", "fenced"],
      );
      const a = await store.readJournal("a");
      assert.deepEqual(
        a.map((e) => e.type),
        ["run_started", "step_attempt_started", "step_succeeded"],
      );
      assert.deepEqual(
        a.map((e) => e.seq),
        [1, 2, 3],
        "entries are numbered in journal order",
      );
      assert.equal(a[2]?.data, '{"result":1}');
      assert.equal(a[2]?.position, 1);
      assert.equal(a[2]?.key, "s#1");
      assert.deepEqual(
        (await store.readJournal("b")).map((e) => e.type),
        ["run_started"],
      );
    },
  },
  {
    name: "a journal is read whole, or from its newest segment on (its last run_continued)",
    async run(store) {
      await createRuns(store, create("s", "wf", { workerId: "w1", leaseMs: LEASE }));
      const write = async (entries: ReturnType<typeof entry>[], update: "pending" | null) => {
        const run = await store.getRun("s");
        const result = await store.commit({
          creates: [],
          writes: [
            {
              runId: "s",
              epoch: run?.epoch ?? 0,
              entries,
              update: update === null ? null : { status: update },
            },
          ],
          now: T0,
        });
        assert.equal(result.writes[0]?.kind, "committed");
      };
      assert.deepEqual(
        (await store.readJournal("s", "segment")).map((e) => e.type),
        ["run_started"],
        "a run that never continued reads whole",
      );
      await write(
        [
          entry("step_attempt_started", T0, 1, "s#1"),
          entry("step_succeeded", T0, 1, "s#1", '{"result":1}'),
          entry("run_continued", T0, null, null, '{"segment":2,"positions":1,"input":1}'),
        ],
        "pending",
      );
      const [again] = await store.claim({
        workerId: "w1",
        workflows: ["wf"],
        limit: 1,
        leaseMs: LEASE,
        now: T0,
        recovering: false,
        concurrency: {},
      });
      assert.equal(again?.run.id, "s");
      if (again?.journal !== undefined) {
        assert.deepEqual(
          again.journal.map((e) => [e.seq, e.type]),
          [[1, "run_continued"]],
          "a claim's journal starts at the newest segment",
        );
      }
      await write(
        [
          entry("step_attempt_started", T0, 2, "s#1@2"),
          entry("step_succeeded", T0, 2, "s#1@2", '{"result":2}'),
          entry("run_continued", T0, null, null, '{"segment":3,"positions":2,"input":2}'),
          entry("step_attempt_started", T0, 3, "s#1@3"),
        ],
        null,
      );
      const segment = await store.readJournal("s", "segment");
      assert.deepEqual(
        segment.map((e) => [e.seq, e.type, e.key]),
        [
          [1, "run_continued", null],
          [2, "step_attempt_started", "s#1@3"],
        ],
        "the newest segment, numbered from 1",
      );
      assert.equal(segment[0]?.data, '{"segment":3,"positions":2,"input":2}');
      const all = await store.readJournal("s");
      assert.deepEqual(
        all.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.deepEqual(await store.readJournal("s", "all"), all);
    },
  },
  {
    name: "status updates end, pause, suspend and hand back runs, releasing the lease",
    async run(store) {
      const claim = { workerId: "w1", leaseMs: LEASE };
      await createRuns(
        store,
        create("c", "wf", claim),
        create("f", "wf", claim),
        create("p", "wf", claim),
        create("w", "wf", claim),
        create("h", "wf", claim),
      );
      const result = await store.commit({
        creates: [],
        writes: [
          {
            runId: "c",
            epoch: 1,
            entries: [entry("run_completed")],
            update: { status: "completed", output: '"done"' },
          },
          {
            runId: "f",
            epoch: 1,
            entries: [entry("run_failed")],
            update: { status: "failed", error: '"bad"' },
          },
          {
            runId: "p",
            epoch: 1,
            entries: [entry("run_paused")],
            update: { status: "paused", reason: "non_determinism" },
          },
          {
            runId: "w",
            epoch: 1,
            entries: [entry("run_suspended")],
            update: { status: "waiting", wakeAt: T0 + 5_000 },
          },
          { runId: "h", epoch: 1, entries: [], update: { status: "pending" } },
        ],
        now: T0 + 1,
      });
      assert.ok(result.writes.every((w) => w.kind === "committed"));
      const c = await store.getRun("c");
      assert.equal(c?.status, "completed");
      assert.equal(c?.output, '"done"');
      assert.equal(c?.endedAt, T0 + 1);
      assert.equal(c?.owner, null);
      assert.equal((await store.getRun("f"))?.error, '"bad"');
      assert.equal((await store.getRun("p"))?.pausedReason, "non_determinism");
      const w = await store.getRun("w");
      assert.equal(w?.status, "waiting");
      assert.equal(w?.wakeAt, T0 + 5_000);
      assert.equal((await store.getRun("h"))?.status, "pending");
      const late = await store.commit({
        creates: [],
        writes: [{ runId: "c", epoch: 1, entries: [entry("step_succeeded")], update: null }],
        now: T0 + 2,
      });
      assert.equal(late.writes[0]?.kind, "fenced", "an ended run takes no more writes");
    },
  },
  {
    name: "claiming takes pending runs once, raises the epoch, and respects workflow and limit",
    async run(store) {
      await createRuns(store, create("p1"), create("p2"), create("other", "not-mine"));
      const claimed = await store.claim({
        workerId: "w1",
        workflows: ["wf"],
        limit: 1,
        leaseMs: LEASE,
        now: T0,
        recovering: false,
        concurrency: {},
      });
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]?.run.status, "running");
      assert.equal(claimed[0]?.run.epoch, 1);
      assert.equal(claimed[0]?.run.owner, "w1");
      assert.equal(claimed[0]?.takeover, false);
      const rest = await claimOne(store, "w2");
      assert.deepEqual(
        rest.map((c) => c.run.id),
        [claimed[0]?.run.id === "p1" ? "p2" : "p1"],
      );
      assert.equal(
        (await claimOne(store, "w3")).length,
        0,
        "nothing left to claim while leases hold",
      );
    },
  },
  {
    name: "waiting runs are claimed only once their wake-up time has come",
    async run(store) {
      await createRuns(store, create("s", "wf", { workerId: "w1", leaseMs: LEASE }));
      await store.commit({
        creates: [],
        writes: [
          { runId: "s", epoch: 1, entries: [], update: { status: "waiting", wakeAt: T0 + 60_000 } },
        ],
        now: T0,
      });
      assert.equal(await store.nextWakeAt(), T0 + 60_000);
      assert.equal((await claimOne(store, "w2", T0 + 59_999)).length, 0);
      const due = await claimOne(store, "w2", T0 + 60_000);
      assert.equal(due[0]?.run.id, "s");
      assert.equal(due[0]?.run.epoch, 2);
      assert.equal(due[0]?.takeover, false);
      assert.equal(await store.nextWakeAt(), null);
    },
  },
  {
    name: "an expired lease is taken over; crashes without progress count up, progress resets",
    async run(store) {
      await createRuns(store, create("x", "wf", { workerId: "dead", leaseMs: SHORT }));
      assert.equal((await claimOne(store, "w2", T0 + 1)).length, 0, "the lease still holds");
      await lapse();
      const short = { leaseMs: SHORT };
      const first = await claimOne(store, "w2", T0 + SHORT + 1, false, short);
      assert.equal(first[0]?.takeover, true);
      assert.equal(first[0]?.run.recoveries, 1);
      await lapse();
      const second = await claimOne(store, "w3", T0 + 2 * SHORT + 2, false, short);
      assert.equal(second[0]?.run.recoveries, 2, "no progress since the last takeover");
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "x",
            epoch: second[0]?.run.epoch ?? 0,
            entries: [entry("step_succeeded", T0, 1, "s#1")],
            update: null,
          },
        ],
        now: T0,
      });
      await lapse();
      const third = await claimOne(store, "w4", T0 + 3 * SHORT + 3, false, short);
      assert.equal(third[0]?.run.recoveries, 1, "a step settled since: the count starts again");
    },
  },
  {
    name: "a recovering worker takes back its own runs and runs paused by non-determinism",
    async run(store) {
      await createRuns(
        store,
        create("own", "wf", { workerId: "w1", leaseMs: LEASE }),
        create("div", "wf", { workerId: "w9", leaseMs: LEASE }),
      );
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "div",
            epoch: 1,
            entries: [],
            update: { status: "paused", reason: "non_determinism" },
          },
        ],
        now: T0,
      });
      assert.equal((await claimOne(store, "w1", T0, false)).length, 0);
      const got = await claimOne(store, "w1", T0, true);
      assert.deepEqual(got.map((c) => c.run.id).sort(), ["div", "own"]);
    },
  },
  {
    name: "heartbeats extend leases and report runs the worker no longer holds",
    async run(store) {
      await createRuns(
        store,
        create("h1", "wf", { workerId: "w1", leaseMs: SHORT }),
        create("h2", "wf", { workerId: "w1", leaseMs: SHORT }),
      );
      const lost = await store.heartbeat(
        "w1",
        [
          { runId: "h1", epoch: 1 },
          { runId: "h2", epoch: 5 },
        ],
        LEASE,
        T0 + SHORT - 1,
      );
      assert.deepEqual(lost, ["h2"]);
      await lapse();
      assert.deepEqual(
        (await claimOne(store, "w2", T0 + SHORT + 1)).map((c) => c.run.id),
        ["h2"],
        "only h2's lease lapsed",
      );
      assert.deepEqual(
        await store.heartbeat("w2", [], LEASE, T0),
        [],
        "nothing held, nothing lost",
      );
    },
  },
  {
    name: "cancelling records a request on live runs, wakes waiting ones, and ends paused ones",
    async run(store) {
      const claim = { workerId: "w1", leaseMs: LEASE };
      await createRuns(
        store,
        create("k", "wf", claim),
        create("s", "wf", claim),
        create("p", "wf", claim),
      );
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "s",
            epoch: 1,
            entries: [],
            update: { status: "waiting", wakeAt: T0 + 86_400_000 },
          },
          {
            runId: "p",
            epoch: 1,
            entries: [],
            update: { status: "paused", reason: "non_determinism" },
          },
        ],
        now: T0,
      });
      const request = (reason: string) => ({
        cancellation: { reason, kind: "cancelled" as const },
        entry: entry("run_cancelled", T0, null, null, JSON.stringify({ reason })),
        error: '"e"',
      });
      const live = await store.cancel("k", request("no"), T0 + 5);
      assert.equal(live.kind, "requested");
      assert.equal(live.kind === "requested" && live.run.status, "running");
      assert.deepEqual((await store.getRun("k"))?.cancelRequested, {
        reason: "no",
        kind: "cancelled",
      });
      assert.deepEqual(await store.inbox(["k", "s"]), [
        { kind: "cancel_requested", runId: "k", cancellation: { reason: "no", kind: "cancelled" } },
      ]);
      const stillHeld = await store.commit({
        creates: [],
        writes: [
          {
            runId: "k",
            epoch: 1,
            entries: [entry("run_cancelled")],
            update: { status: "cancelled", error: '"e"' },
          },
        ],
        now: T0 + 6,
      });
      assert.equal(stillHeld.writes[0]?.kind, "committed", "the holder carries the request out");
      assert.equal((await store.getRun("k"))?.status, "cancelled");
      assert.equal((await store.getRun("k"))?.cancelRequested, null);
      const sleeping = await store.cancel("s", request("stop"), T0 + 7);
      assert.equal(sleeping.kind, "requested");
      assert.equal(
        (await store.getRun("s"))?.status,
        "pending",
        "a waiting run becomes runnable to cancel itself",
      );
      const paused = await store.cancel("p", request("give up"), T0 + 8);
      assert.equal(paused.kind, "cancelled");
      const p = await store.getRun("p");
      assert.equal(p?.status, "cancelled");
      assert.equal(p?.epoch, 2);
      assert.deepEqual(
        (await store.readJournal("p")).map((e) => e.type),
        ["run_started", "run_cancelled"],
      );
      assert.equal((await store.cancel("k", request("again"), T0)).kind, "finished");
      assert.equal((await store.cancel("nope", request("x"), T0)).kind, "not_found");
    },
  },
  {
    name: "resuming makes a paused run pending again",
    async run(store) {
      await createRuns(store, create("z", "wf", { workerId: "w1", leaseMs: LEASE }));
      assert.equal((await store.resume("z", entry("run_resumed"), T0)).kind, "not_paused");
      await store.commit({
        creates: [],
        writes: [
          { runId: "z", epoch: 1, entries: [], update: { status: "paused", reason: "crash_loop" } },
        ],
        now: T0,
      });
      const r = await store.resume("z", entry("run_resumed"), T0 + 1);
      assert.equal(r.kind, "resumed");
      assert.equal((await store.getRun("z"))?.status, "pending");
      assert.equal((await store.resume("nope", entry("run_resumed"), T0)).kind, "not_found");
    },
  },
  {
    name: "a transaction commits the body's writes, the queued entries and its own entries together",
    async run(store) {
      await createRuns(store, create("t", "wf", { workerId: "w1", leaseMs: LEASE }));
      const ok = await store.transaction(
        "t",
        1,
        T0,
        [entry("value_recorded", T0, 1, "now", "1")],
        async (tx) => {
          await tx.execute(
            "CREATE TABLE IF NOT EXISTS conformance_ledger (id TEXT PRIMARY KEY, amount INTEGER)",
          );
          await tx.execute(
            `INSERT INTO conformance_ledger (id, amount) VALUES (${placeholder(store, 1)}, ${placeholder(store, 2)})`,
            ["t1", 5],
          );
          return [entry("step_succeeded", T0, 2, "post#1")];
        },
      );
      assert.equal(ok.kind, "committed");
      assert.deepEqual(
        (await store.readJournal("t")).map((e) => e.type),
        ["run_started", "value_recorded", "step_succeeded"],
      );
      await assert.rejects(
        store.transaction("t", 1, T0, [entry("value_recorded", T0, 3, "now", "2")], async (tx) => {
          await tx.execute(
            `INSERT INTO conformance_ledger (id, amount) VALUES (${placeholder(store, 1)}, ${placeholder(store, 2)})`,
            ["t2", 6],
          );
          throw new Error("body failed");
        }),
        /body failed/,
      );
      const fenced = await store.transaction("t", 9, T0, [], async (tx) => {
        await tx.execute(
          `INSERT INTO conformance_ledger (id, amount) VALUES (${placeholder(store, 1)}, ${placeholder(store, 2)})`,
          ["t3", 7],
        );
        return [entry("step_succeeded", T0, 4, "post#2")];
      });
      assert.equal(fenced.kind, "fenced");
      assert.deepEqual(
        (await store.readJournal("t")).map((e) => e.type),
        ["run_started", "value_recorded", "step_succeeded"],
      );
      const check = await store.transaction("t", 1, T0, [], async (tx) => {
        const rows = await tx.query<{ id: string }>(
          "SELECT id FROM conformance_ledger ORDER BY id",
        );
        assert.deepEqual(
          rows.map((r) => r.id),
          ["t1"],
          "rolled back and fenced writes left nothing",
        );
        return [];
      });
      assert.equal(check.kind, "committed");
    },
  },
  {
    name: "listing runs filters by workflow and status and pages newest first",
    async run(store) {
      for (let i = 0; i < 5; i++) {
        await store.commit({
          creates: [create(`l${i}`, i % 2 === 0 ? "even" : "odd")],
          writes: [],
          now: T0 + i,
        });
      }
      const first = await store.listRuns({ limit: 2 });
      assert.deepEqual(
        first.runs.map((r) => r.id),
        ["l4", "l3"],
      );
      assert.ok(first.next !== null);
      const second = await store.listRuns({ limit: 2, cursor: first.next });
      assert.deepEqual(
        second.runs.map((r) => r.id),
        ["l2", "l1"],
      );
      const third = await store.listRuns({ limit: 2, cursor: second.next ?? "" });
      assert.deepEqual(
        third.runs.map((r) => r.id),
        ["l0"],
      );
      assert.equal(third.next, null);
      assert.deepEqual(
        (await store.listRuns({ limit: 10, workflow: "even" })).runs.map((r) => r.id),
        ["l4", "l2", "l0"],
      );
      assert.deepEqual((await store.listRuns({ limit: 10, status: "completed" })).runs, []);
    },
  },
  {
    name: "listing runs filters by creation time and id text, with the cursor",
    async run(store) {
      for (let i = 0; i < 6; i++) {
        await store.commit({ creates: [create(`lead-${i}`)], writes: [], now: T0 + i * 10 });
      }
      await store.commit({ creates: [create("other-9")], writes: [], now: T0 + 100 });
      const ids = async (filter: Parameters<Store["listRuns"]>[0]): Promise<string[]> =>
        (await store.listRuns(filter)).runs.map((r) => r.id);
      assert.deepEqual(await ids({ limit: 10, createdAfter: T0 + 20, createdBefore: T0 + 50 }), [
        "lead-4",
        "lead-3",
        "lead-2",
      ]);
      assert.deepEqual(await ids({ limit: 10, idContains: "ad-5" }), ["lead-5"]);
      assert.deepEqual(await ids({ limit: 10, idContains: "%" }), [], "no LIKE wildcards");
      const page = await store.listRuns({ limit: 2, idContains: "lead-", createdAfter: T0 + 10 });
      assert.deepEqual(
        page.runs.map((r) => r.id),
        ["lead-5", "lead-4"],
      );
      assert.deepEqual(
        await ids({
          limit: 10,
          idContains: "lead-",
          createdAfter: T0 + 10,
          cursor: page.next ?? "",
        }),
        ["lead-3", "lead-2", "lead-1"],
      );
    },
  },
  {
    name: "retrying makes a failed run pending again, its error and end cleared",
    async run(store) {
      await createRuns(store, create("f", "wf", { workerId: "w1", leaseMs: LEASE }));
      assert.equal((await store.retry("f", entry("run_retried"), T0)).kind, "not_paused");
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "f",
            epoch: 1,
            entries: [entry("run_failed", T0)],
            update: { status: "failed", error: '{"message":"boom"}' },
          },
        ],
        now: T0,
      });
      const r = await store.retry("f", entry("run_retried", T0 + 1), T0 + 1);
      assert.equal(r.kind, "resumed");
      const run = await store.getRun("f");
      assert.equal(run?.status, "pending");
      assert.equal(run?.error, null);
      assert.equal(run?.endedAt, null);
      assert.deepEqual(
        (await store.readJournal("f")).map((e) => e.type),
        ["run_started", "run_failed", "run_retried"],
      );
      assert.equal((await store.retry("f", entry("run_retried"), T0)).kind, "not_paused");
      assert.equal((await store.retry("nope", entry("run_retried"), T0)).kind, "not_found");
      const [claimed] = await store.claim({
        workerId: "w2",
        workflows: ["wf"],
        limit: 1,
        leaseMs: LEASE,
        now: T0 + 2,
        recovering: false,
        concurrency: {},
      });
      assert.equal(claimed?.run.id, "f", "a retried run is claimed like a new one");
    },
  },
  {
    name: "a claim for some versions takes runs pinned to them, others only after the grace",
    async run(store) {
      const pinned = (id: string, version: string | null) => create(id, "wf", null, { version });
      await createRuns(store, pinned("v1", "1"), pinned("v2", "2"), pinned("none", null));
      const versions = { wf: ["2"] };
      const ids = (claimed: { run: { id: string } }[]) => claimed.map((c) => c.run.id).sort();
      const first = await claimOne(store, "w2", T0, false, { versions, versionGraceMs: 1_000 });
      assert.deepEqual(ids(first), ["v2"], "only the run pinned to a version it registers");
      const early = await claimOne(store, "w2", T0 + 500, false, {
        versions,
        versionGraceMs: 1_000,
      });
      assert.deepEqual(ids(early), [], "within the grace, runs of other versions are left alone");
      const late = await claimOne(store, "w2", T0 + 2_000, false, {
        versions,
        versionGraceMs: 1_000,
      });
      assert.deepEqual(ids(late), ["none", "v1"], "after it, they are claimed (to be paused)");
      await store.commit({
        creates: [],
        writes: [
          ...["v1", "none"].map((runId) => ({
            runId,
            epoch: 1,
            entries: [entry("run_paused")],
            update: { status: "paused" as const, reason: "version_missing" },
          })),
        ],
        now: T0 + 2_000,
      });
      const withOld = { wf: ["1", "2"] };
      const plain = await claimOne(store, "w1", T0 + 3_000, false, { versions: withOld });
      assert.deepEqual(ids(plain), [], "a paused run waits for a recovering worker");
      const back = await claimOne(store, "w1", T0 + 3_000, true, { versions: withOld });
      assert.deepEqual(ids(back), ["v1"], "a worker that registers its version takes it back");
      const resumed = await store.resume("none", entry("run_resumed"), T0 + 4_000, {
        version: "2",
      });
      assert.equal(resumed.kind, "resumed");
      assert.equal((await store.getRun("none"))?.version, "2", "resume may pin another version");
      const moved = await claimOne(store, "w2", T0 + 4_000, false, {
        versions,
        versionGraceMs: 1_000,
      });
      assert.deepEqual(ids(moved), ["none"], "and it is claimed for that version");
    },
  },
  {
    name: "unknown runs read as absent",
    async run(store) {
      assert.equal(await store.getRun("nope"), null);
      assert.deepEqual(await store.readJournal("nope"), []);
      assert.equal(await store.nextWakeAt(), null);
    },
  },
];
