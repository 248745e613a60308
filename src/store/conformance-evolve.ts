// Conformance cases for rewinding an ended run and forking a run.
import assert from "node:assert/strict";
import type { WaitRequest } from "../core/run-port.js";
import {
  claimOne,
  create,
  createRuns,
  entry,
  LEASE,
  T0,
  type ConformanceCase,
} from "./conformance-case.js";
import type { Store } from "./store.js";

function wait(position: number, kind: WaitRequest["kind"], target: string): WaitRequest {
  return {
    position,
    key: `${target}#1`,
    kind,
    target,
    match: null,
    timeoutAt: T0 + 86_400_000,
    details: null,
  };
}

async function write(
  store: Store,
  runId: string,
  epoch: number,
  more: { entries?: ReturnType<typeof entry>[]; waits?: WaitRequest[]; output?: string },
): Promise<void> {
  const result = await store.commit({
    creates: [],
    writes: [
      {
        runId,
        epoch,
        entries: more.entries ?? [],
        update: more.output === undefined ? null : { status: "completed", output: more.output },
        ...(more.waits === undefined ? {} : { waits: more.waits }),
      },
    ],
    now: T0,
  });
  assert.equal(result.writes[0]?.kind, "committed");
}

/** The cases about rewinding and forking runs. */
export const evolveCases: readonly ConformanceCase[] = [
  {
    name: "rewinding re-opens an ended run: pending, its end cleared, its epoch raised, its waits from the position removed",
    async run(store) {
      await createRuns(store, create("rw", "wf", { workerId: "w1", leaseMs: LEASE }));
      const rewind = (id: string) =>
        store.rewind(id, { entry: entry("run_rewound", T0 + 1), fromPosition: 2 }, T0 + 1);
      assert.equal((await rewind("rw")).kind, "not_paused", "a running run is not rewound");
      await write(store, "rw", 1, {
        entries: [entry("wait_started", T0, 1, "a#1"), entry("wait_started", T0, 2, "b#1")],
        waits: [wait(1, "signal", "a"), wait(2, "signal", "b")],
      });
      await write(store, "rw", 1, { entries: [entry("run_completed", T0)], output: '"done"' });
      assert.equal((await store.getRun("rw"))?.status, "completed");

      const r = await rewind("rw");
      assert.equal(r.kind, "resumed");
      const run = await store.getRun("rw");
      assert.equal(run?.status, "pending");
      assert.equal(run?.output, null);
      assert.equal(run?.endedAt, null);
      assert.equal(run?.owner, null);
      assert.equal(run?.epoch, 2, "the epoch is raised: a write of the old holder is fenced");
      assert.notEqual(await store.getWait("rw", 1), null, "a wait before the position stays");
      assert.equal(await store.getWait("rw", 2), null, "a wait from the position is removed");
      assert.deepEqual(
        (await store.readJournal("rw")).map((e) => e.type),
        ["run_started", "wait_started", "wait_started", "run_completed", "run_rewound"],
        "the journal keeps what happened, the rewind appended",
      );
      assert.equal((await rewind("rw")).kind, "not_paused", "a pending run is not rewound");
      assert.equal((await rewind("nope")).kind, "not_found");

      const [claimed] = await claimOne(store, "w2", T0 + 2);
      assert.equal(claimed?.run.id, "rw", "a rewound run is claimed like a new one");
      const epoch = claimed?.run.epoch ?? 0;
      assert.equal(epoch, 3);
      // The run waits again at the position it waited at before.
      await write(store, "rw", epoch, {
        entries: [entry("wait_started", T0 + 2, 2, "b#1")],
        waits: [wait(2, "signal", "b")],
      });
      assert.equal((await store.getWait("rw", 2))?.status, "open");
    },
  },
  {
    name: "a fork is a pending run created with the journal it is given, once",
    async run(store) {
      const shared = [
        entry("run_forked", T0, null, null, '{"from":"p"}'),
        entry("step_attempt_started", T0, 1, "plan#1", '{"attempt":1}'),
        entry("step_succeeded", T0, 1, "plan#1", '{"attempt":1,"result":7}'),
        entry("value_recorded", T0, 2, "now", "5"),
      ];
      const fork = { ...create("fk"), claim: { workerId: "w1", leaseMs: LEASE } };
      const first = await store.fork(fork, shared, T0);
      assert.equal(first.created, true);
      assert.equal(first.run.status, "pending", "a fork is left for any worker");
      assert.equal(first.run.epoch, 0);
      assert.equal(first.run.owner, null);
      const journal = await store.readJournal("fk");
      assert.deepEqual(
        journal.map((e) => [e.seq, e.type, e.position, e.key, e.data]),
        [
          [1, "run_started", null, null, '{"workflow":"wf"}'],
          [2, "run_forked", null, null, '{"from":"p"}'],
          [3, "step_attempt_started", 1, "plan#1", '{"attempt":1}'],
          [4, "step_succeeded", 1, "plan#1", '{"attempt":1,"result":7}'],
          [5, "value_recorded", 2, "now", "5"],
        ],
      );
      const again = await store.fork({ ...create("fk"), input: '"other"' }, shared.slice(0, 1), T0);
      assert.equal(again.created, false);
      assert.equal(again.run.input, '{"n":1}');
      assert.equal((await store.readJournal("fk")).length, 5, "nothing written the second time");
      const [claimed] = await claimOne(store, "w2", T0 + 1);
      assert.equal(claimed?.run.id, "fk");
    },
  },
];
