// Conformance cases for waits, events, signals, approvals, cursors and retention.
import assert from "node:assert/strict";
import type { NewEntry } from "../core/journal.js";
import type { WaitRequest } from "../core/run-port.js";
import { canonicalMatch } from "../core/match.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import type { ConformanceCase } from "./conformance-case.js";
import type { RunCreate, Store } from "./store.js";

const T0 = 1_700_000_000_000;
const LEASE = 30_000;

function entry(
  type: NewEntry["type"],
  position: number | null = null,
  key: string | null = null,
): NewEntry {
  return { type, at: T0, position, key, data: null };
}

function create(id: string): RunCreate {
  return {
    id,
    workflow: "wf",
    version: null,
    input: "null",
    started: entry("run_started"),
    claim: { workerId: "w1", leaseMs: LEASE },
    deadlineAt: null,
    priority: 0,
    concurrencyKey: null,
  };
}

function wait(
  position: number,
  kind: WaitRequest["kind"],
  target: string,
  extra: Partial<WaitRequest> = {},
): WaitRequest {
  return {
    position,
    key: `${target}#${position}`,
    kind,
    target,
    match: null,
    timeoutAt: T0 + 86_400_000,
    details: null,
    ...extra,
  };
}

async function withWaits(
  store: Store,
  runId: string,
  waits: WaitRequest[],
  now = T0,
): Promise<void> {
  const result = await store.commit({
    creates: [],
    writes: [
      {
        runId,
        epoch: 1,
        entries: waits.map((w) => entry("wait_started", w.position, w.key)),
        update: null,
        waits,
      },
    ],
    now,
  });
  assert.equal(result.writes[0]?.kind, "committed");
}

async function event(store: Store, id: string, name: string, data: unknown, now = T0) {
  return store.sendEvent({ id, name, data: encodeValue(data, "event data") }, now);
}

const valueOf = (v: string | null | undefined): unknown =>
  v === null || v === undefined ? null : decodeValue(v);

const rules = (approvers: string[], quorum: number, role: string | null = null) =>
  encodeValue({ title: "Ship it?", approvers, role, quorum, details: { draft: 1 } }, "rules");

/** The cases about waits and what ends them. */
export const waitCases: readonly ConformanceCase[] = [
  {
    name: "an event wait takes a matching event sent after its run began, not one sent before",
    async run(store) {
      await event(store, "early", "ping", { k: 1 });
      await store.commit({ creates: [create("r")], writes: [], now: T0 });
      await event(store, "late", "ping", { k: 1 });
      await event(store, "other", "ping", { k: 2 });
      await withWaits(store, "r", [
        wait(1, "event", "ping", { match: canonicalMatch({ "data.k": 1 }, "w") }),
      ]);
      const w = await store.getWait("r", 1);
      assert.equal(w?.status, "satisfied");
      assert.deepEqual((valueOf(w?.value) as { id: string }).id, "late");
      await withWaits(store, "r", [
        wait(2, "event", "ping", { match: canonicalMatch({ "data.k": 1 }, "w") }),
      ]);
      assert.equal((await store.getWait("r", 2))?.status, "open", "one wait consumes one event");
    },
  },
  {
    name: "an event ends the earliest matching wait of each run, once per event id, and wakes waiting runs",
    async run(store) {
      await store.commit({ creates: [create("a"), create("b"), create("c")], writes: [], now: T0 });
      await withWaits(store, "a", [wait(1, "event", "order.paid"), wait(2, "event", "order.paid")]);
      await withWaits(store, "b", [
        wait(1, "event", "order.paid", { match: canonicalMatch({ "data.order": "o-1" }, "w") }),
      ]);
      await withWaits(store, "c", [
        wait(1, "event", "order.paid", { match: canonicalMatch({ "data.order": "o-2" }, "w") }),
      ]);
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "b",
            epoch: 1,
            entries: [],
            update: { status: "waiting", wakeAt: T0 + 86_400_000 },
          },
        ],
        now: T0,
      });
      const sent = await event(store, "e1", "order.paid", { order: "o-1" });
      assert.equal(sent.created, true);
      assert.deepEqual(
        [...sent.woken].sort((x, y) => x.runId.localeCompare(y.runId)),
        [
          { runId: "a", position: 1 },
          { runId: "b", position: 1 },
        ],
      );
      assert.equal((await store.getWait("a", 2))?.status, "open");
      assert.equal((await store.getWait("c", 1))?.status, "open");
      assert.equal((await store.getRun("b"))?.status, "pending", "a waiting run is runnable again");
      const again = await event(store, "e1", "order.paid", { order: "o-1" });
      assert.equal(again.created, false);
      assert.deepEqual(again.woken, []);
      assert.equal(
        (await store.getWait("a", 2))?.status,
        "open",
        "a duplicate id delivers nothing",
      );
    },
  },
  {
    name: "event names and ids with quotes, backslashes and non-ASCII text are kept as sent",
    async run(store) {
      await store.commit({ creates: [create("q")], writes: [], now: T0 });
      const name = 'it\'s \\ "odd"; -- é';
      await withWaits(store, "q", [
        wait(1, "event", name, { match: canonicalMatch({ "data.k": "a'b" }, "w") }),
      ]);
      const id = "id ' \\' ); DROP TABLE runs; --";
      const sent = await event(store, id, name, { k: "a'b" });
      assert.equal(sent.created, true);
      assert.equal(sent.event.id, id);
      assert.equal(sent.event.name, name);
      assert.deepEqual(sent.woken, [{ runId: "q", position: 1 }]);
      const again = await event(store, id, name, { k: "a'b" });
      assert.equal(again.created, false, "the quoted id is found again");
      assert.equal((await store.getRun("q"))?.status, "running");
    },
  },
  {
    name: "signals are buffered in order and taken one per wait; finished and unknown runs refuse them",
    async run(store) {
      await store.commit({ creates: [create("s")], writes: [], now: T0 });
      for (const n of [1, 2])
        assert.equal(
          (await store.sendSignal("s", { name: "note", data: String(n) }, T0 + n)).kind,
          "sent",
        );
      await withWaits(store, "s", [
        wait(1, "signal", "note"),
        wait(2, "signal", "note"),
        wait(3, "signal", "note"),
      ]);
      assert.equal((valueOf((await store.getWait("s", 1))?.value) as { data: number }).data, 1);
      assert.equal((valueOf((await store.getWait("s", 2))?.value) as { data: number }).data, 2);
      const third = await store.sendSignal("s", { name: "note", data: "3" }, T0 + 3);
      assert.deepEqual(third.kind === "sent" && third.woken, [{ runId: "s", position: 3 }]);
      await store.commit({
        creates: [],
        writes: [
          { runId: "s", epoch: 1, entries: [], update: { status: "completed", output: "1" } },
        ],
        now: T0,
      });
      assert.equal((await store.sendSignal("s", { name: "note", data: "4" }, T0)).kind, "finished");
      assert.equal(
        (await store.sendSignal("nope", { name: "note", data: "4" }, T0)).kind,
        "not_found",
      );
    },
  },
  {
    name: "decisions follow the approval's rules and settle it once",
    async run(store) {
      await store.commit({ creates: [create("p")], writes: [], now: T0 });
      await withWaits(store, "p", [
        wait(1, "approval", "ship", { details: rules(["ana", "bo", "cy"], 2) }),
      ]);
      const decide = (by: string, approved = true, name = "ship") =>
        store.decide("p", name, { by, approved, comment: null, role: null }, T0 + 1);
      assert.equal((await decide("mallory")).kind, "refused");
      assert.equal((await decide("ana")).kind, "recorded");
      assert.equal((await decide("ana")).kind, "refused");
      const listed = await store.listApprovals({ limit: 10 });
      assert.equal(listed.length, 1);
      assert.deepEqual(
        listed[0]?.decisions.map((d) => d.by),
        ["ana"],
      );
      const settled = await decide("bo");
      assert.equal(settled.kind, "settled");
      const result = valueOf(settled.kind === "settled" ? settled.wait.value : null) as {
        approved: boolean;
        outcome: string;
        by: string;
      };
      assert.deepEqual([result.approved, result.outcome, result.by], [true, "approved", "bo"]);
      assert.equal((await decide("cy")).kind, "already_ended");
      assert.equal((await decide("ana", true, "nope")).kind, "not_found");
      assert.deepEqual(await store.listApprovals({ limit: 10 }), []);
    },
  },
  {
    name: "a rejection settles an approval, roles are checked, and escalation adds approvers",
    async run(store) {
      await store.commit({ creates: [create("q"), create("r")], writes: [], now: T0 });
      await withWaits(store, "q", [
        wait(1, "approval", "discount", { details: rules([], 1, "lead") }),
      ]);
      assert.equal(
        (
          await store.decide(
            "q",
            "discount",
            { by: "x", approved: true, comment: null, role: null },
            T0,
          )
        ).kind,
        "refused",
      );
      const rejected = await store.decide(
        "q",
        "discount",
        { by: "x", approved: false, comment: "no", role: "lead" },
        T0,
      );
      assert.equal(rejected.kind, "settled");
      assert.equal(
        (valueOf(rejected.kind === "settled" ? rejected.wait.value : null) as { outcome: string })
          .outcome,
        "rejected",
      );
      await withWaits(store, "r", [wait(1, "approval", "sign", { details: rules(["legal"], 1) })]);
      assert.equal(
        (
          await store.decide(
            "r",
            "sign",
            { by: "cfo", approved: true, comment: null, role: null },
            T0,
          )
        ).kind,
        "refused",
      );
      await store.addApprovers("r", 1, ["cfo"]);
      assert.deepEqual((await store.getWait("r", 1))?.addedApprovers, ["cfo"]);
      assert.equal(
        (
          await store.decide(
            "r",
            "sign",
            { by: "cfo", approved: true, comment: null, role: null },
            T0,
          )
        ).kind,
        "settled",
      );
    },
  },
  {
    name: "closing a wait happens once; an approval's timeout carries its decisions so far",
    async run(store) {
      await store.commit({ creates: [create("t")], writes: [], now: T0 });
      await withWaits(store, "t", [
        wait(1, "event", "never"),
        wait(2, "approval", "ok", { details: rules(["a", "b"], 2) }),
      ]);
      const closed = await store.closeWait("t", 1, { status: "timed_out" }, T0 + 5);
      assert.equal(closed?.status, "timed_out");
      assert.equal(closed?.value, null);
      const again = await store.closeWait("t", 1, { status: "resolved", value: '"late"' }, T0 + 6);
      assert.equal(again?.status, "timed_out", "the first ending stands");
      await store.decide("t", "ok", { by: "a", approved: true, comment: null, role: null }, T0);
      const expired = await store.closeWait("t", 2, { status: "timed_out" }, T0 + 7);
      const result = valueOf(expired?.value) as {
        approved: boolean;
        outcome: string;
        decisions: unknown[];
      };
      assert.deepEqual(
        [result.approved, result.outcome, result.decisions.length],
        [false, "timed_out", 1],
      );
      assert.equal(await store.closeWait("t", 99, { status: "timed_out" }, T0), null);
    },
  },
  {
    name: "a run whose wait ended unjournaled is told through the inbox and not put to sleep",
    async run(store) {
      await store.commit({ creates: [create("i")], writes: [], now: T0 });
      await withWaits(store, "i", [wait(1, "signal", "go")]);
      await store.sendSignal("i", { name: "go", data: "1" }, T0);
      assert.deepEqual(await store.inbox(["i"]), [{ kind: "wait_ended", runId: "i", position: 1 }]);
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "i",
            epoch: 1,
            entries: [],
            update: { status: "waiting", wakeAt: T0 + 86_400_000 },
          },
        ],
        now: T0,
      });
      assert.equal((await store.getRun("i"))?.status, "pending");
      const claimed = await store.claim({
        workerId: "w2",
        workflows: ["wf"],
        limit: 5,
        leaseMs: LEASE,
        now: T0,
        recovering: false,
        concurrency: {},
      });
      await store.commit({
        creates: [],
        writes: [
          {
            runId: "i",
            epoch: claimed[0]?.run.epoch ?? 0,
            entries: [entry("wait_completed", 1, "go#1")],
            update: null,
          },
        ],
        now: T0,
      });
      assert.deepEqual(await store.inbox(["i"]), []);
    },
  },
  {
    name: "cancelled waits take no events",
    async run(store) {
      await store.commit({ creates: [create("c")], writes: [], now: T0 });
      await withWaits(store, "c", [wait(1, "event", "ping"), wait(2, "signal", "go")]);
      await store.cancelWaits("c", T0);
      assert.equal((await store.getWait("c", 1))?.status, "cancelled");
      assert.deepEqual((await event(store, "p1", "ping", null)).woken, []);
      const signal = await store.sendSignal("c", { name: "go", data: "1" }, T0);
      assert.deepEqual(signal.kind === "sent" && signal.woken, []);
    },
  },
  {
    name: "a withdrawn wait takes no later event, and an event it had taken goes to the run's next matching wait",
    async run(store) {
      await store.commit({ creates: [create("w"), create("x")], writes: [], now: T0 });
      // An open wait withdrawn: a later event passes it by.
      await withWaits(store, "w", [wait(1, "event", "reply")]);
      assert.deepEqual(await store.withdrawWait("w", 1, T0), []);
      assert.equal((await store.getWait("w", 1))?.status, "cancelled");
      await withWaits(store, "x", [wait(1, "event", "reply")]);
      const first = await event(store, "e1", "reply", { n: 1 });
      assert.deepEqual(
        first.woken,
        [{ runId: "x", position: 1 }],
        "the withdrawn wait took nothing",
      );
      assert.equal((await store.getWait("w", 1))?.status, "cancelled");
      // The event is kept for the run: the next wait that matches it takes it.
      await withWaits(store, "w", [wait(2, "event", "reply")]);
      const second = await store.getWait("w", 2);
      assert.equal(second?.status, "satisfied");
      assert.equal((valueOf(second?.value) as { id: string }).id, "e1");
      // A wait that took an event and is withdrawn before the run journaled it gives it back,
      // to the run's earliest open wait that matches it (told to the caller) ...
      await withWaits(store, "w", [
        wait(3, "event", "ping"),
        wait(4, "event", "ping", { match: canonicalMatch({ "data.k": 2 }, "w") }),
        wait(5, "event", "ping"),
      ]);
      await event(store, "p1", "ping", { k: 1 });
      assert.equal((await store.getWait("w", 3))?.status, "satisfied");
      assert.deepEqual(await store.withdrawWait("w", 3, T0 + 1), [{ runId: "w", position: 5 }]);
      const w3 = await store.getWait("w", 3);
      assert.equal(w3?.status, "cancelled");
      assert.equal(w3?.value, null);
      assert.equal((await store.getWait("w", 4))?.status, "open", "its match does not fit");
      const w5 = await store.getWait("w", 5);
      assert.equal((valueOf(w5?.value) as { id: string }).id, "p1");
      // ... never delivered twice: a later wait does not take it again.
      await withWaits(store, "w", [wait(6, "event", "ping")]);
      assert.equal((await store.getWait("w", 6))?.status, "open");
      const inbox = await store.inbox(["w"]);
      inbox.sort((a, b) =>
        a.kind === "wait_ended" && b.kind === "wait_ended" ? a.position - b.position : 0,
      );
      assert.deepEqual(inbox, [
        { kind: "wait_ended", runId: "w", position: 2 },
        { kind: "wait_ended", runId: "w", position: 5 },
      ]);
    },
  },
  {
    name: "withdrawing a wait whose end the run journaled leaves it as it ended",
    async run(store) {
      await store.commit({ creates: [create("j")], writes: [], now: T0 });
      await withWaits(store, "j", [wait(1, "event", "reply")]);
      await event(store, "e1", "reply", null);
      await store.commit({
        creates: [],
        writes: [
          { runId: "j", epoch: 1, entries: [entry("wait_completed", 1, "reply#1")], update: null },
        ],
        now: T0,
      });
      assert.deepEqual(await store.withdrawWait("j", 1, T0), []);
      assert.equal((await store.getWait("j", 1))?.status, "satisfied");
      await withWaits(store, "j", [wait(2, "event", "reply")]);
      assert.equal((await store.getWait("j", 2))?.status, "open", "the event was not given back");
      assert.deepEqual(await store.withdrawWait("j", 9, T0), [], "an unknown wait is no error");
    },
  },
  {
    name: "a signal a withdrawn wait had taken goes to the run's next wait for it",
    async run(store) {
      await store.commit({ creates: [create("s")], writes: [], now: T0 });
      await withWaits(store, "s", [wait(1, "signal", "go"), wait(2, "signal", "go")]);
      const sent = await store.sendSignal(
        "s",
        { name: "go", data: encodeValue({ n: 1 }, "d") },
        T0,
      );
      assert.deepEqual(sent.kind === "sent" && sent.woken, [{ runId: "s", position: 1 }]);
      assert.deepEqual(await store.withdrawWait("s", 1, T0), [{ runId: "s", position: 2 }]);
      assert.equal((await store.getWait("s", 1))?.status, "cancelled");
      const w2 = await store.getWait("s", 2);
      assert.deepEqual((valueOf(w2?.value) as { data: unknown }).data, { n: 1 });
      await withWaits(store, "s", [wait(3, "signal", "go")]);
      assert.equal((await store.getWait("s", 3))?.status, "open", "taken once only");
    },
  },
  {
    name: "cursors only move forward; events can be read after a position",
    async run(store) {
      assert.equal(await store.cursor("trigger:x"), null);
      await store.setCursor("trigger:x", 5);
      await store.setCursor("trigger:x", 3);
      assert.equal(await store.cursor("trigger:x"), 5);
      assert.equal(await store.lastEventPos(), 0);
      for (const id of ["a", "b", "c"]) await event(store, id, "lead", { id });
      await event(store, "z", "other", null);
      const last = await store.lastEventPos();
      const all = await store.eventsAfter("lead", 0, 10);
      assert.deepEqual(
        all.map((e) => e.id),
        ["a", "b", "c"],
      );
      assert.ok(last >= (all[2]?.pos ?? Infinity));
      assert.deepEqual(
        (await store.eventsAfter("lead", all[0]?.pos ?? 0, 1)).map((e) => e.id),
        ["b"],
      );
    },
  },
  {
    name: "retention deletes runs that ended before the cutoff and events no live run can take",
    async run(store) {
      await store.commit({ creates: [create("old")], writes: [], now: T0 });
      await store.commit({
        creates: [],
        writes: [
          { runId: "old", epoch: 1, entries: [], update: { status: "completed", output: "1" } },
        ],
        now: T0 + 1,
      });
      await event(store, "spent", "ping", null, T0 + 2);
      await store.commit({ creates: [create("live")], writes: [], now: T0 + 3 });
      await event(store, "takeable", "ping", null, T0 + 4);
      await store.commit({ creates: [create("young")], writes: [], now: T0 + 100 });
      await store.commit({
        creates: [],
        writes: [
          { runId: "young", epoch: 1, entries: [], update: { status: "failed", error: '"x"' } },
        ],
        now: T0 + 100,
      });
      assert.deepEqual(await store.deleteFinishedRuns(T0 + 50, 10), ["old"]);
      assert.equal(await store.getRun("old"), null);
      assert.deepEqual(await store.readJournal("old"), []);
      assert.equal((await store.getRun("young"))?.status, "failed");
      assert.equal((await store.getRun("live"))?.status, "running");
      assert.equal(
        await store.deleteEvents(T0 + 50, 10),
        1,
        "only the event before the live run's start",
      );
      assert.deepEqual(
        (await store.eventsAfter("ping", 0, 10)).map((e) => e.id),
        ["takeable"],
      );
    },
  },
];
