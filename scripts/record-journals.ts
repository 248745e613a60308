// Records the journals in test/fixtures/journals/ with the code of today: one run of each
// fixture workflow, driven on a virtual clock in a real SQLite store, exported as journal
// files (`endure export --replayable` format). Run it with `npx tsx scripts/record-journals.ts` only to
// add a journal: the ones checked in are what every later version must still replay. Name the
// scenarios to record (`npx tsx scripts/record-journals.ts memory`) to leave the others as they are.
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunHandle } from "../src/index.js";
import { createTestEngine, formatJournalFile, type TestEngine } from "../src/testing/index.js";
import * as fixtures from "../test/fixtures/journals/workflows.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "test/fixtures/journals");

const settle = (t: TestEngine, run: RunHandle<unknown>) => t.runToEnd(run).catch(() => undefined);

/** Each scenario starts a run and drives it to where its journal should stop. */
const scenarios: Record<string, (t: TestEngine) => Promise<string>> = {
  async steps(t) {
    const run = await t.start(fixtures.steps, { name: "ana" }, { id: "steps-1" });
    await settle(t, run);
    return run.id;
  },
  async waits(t) {
    const run = await t.start(fixtures.waits, { order: 7 }, { id: "waits-1" });
    await t.advance("1s");
    await until(t, run.id, "paid");
    await t.event("order.paid", { order: 8, amount: 1 }, "paid-8");
    await t.event("order.paid", { order: 7, amount: 12 }, "paid-7");
    await until(t, run.id, "note");
    await t.signal(run.id, "note", { text: "leave at the door" });
    await t.decide(run.id, "ship", true, { by: "maria@example.com", comment: "go" });
    await settle(t, run);
    return run.id;
  },
  async "long-wait"(t) {
    const run = await t.start(fixtures.longWait, {}, { id: "long-wait-1" });
    await settle(t, run);
    return run.id;
  },
  async cancelled(t) {
    const run = await t.start(fixtures.cancelled, {}, { id: "cancelled-1" });
    await until(t, run.id, "forever");
    await t.cancel(run.id, "the customer changed their mind");
    await settle(t, run);
    return run.id;
  },
  async retried(t) {
    const run = await t.start(fixtures.retried, {}, { id: "retried-1" });
    await settle(t, run);
    await t.retry(run.id, { by: "maria@example.com" });
    await settle(t, run);
    return run.id;
  },
  async failed(t) {
    const run = await t.start(fixtures.failed, {}, { id: "failed-1" });
    await settle(t, run);
    return run.id;
  },
  async composed(t) {
    const run = await t.start(fixtures.composed, {}, { id: "composed-1" });
    // Signals wait in the run's buffer: "x" and "go" are taken as their waits begin.
    await t.signal(run.id, "x", 1);
    await t.signal(run.id, "go", "now");
    await until(t, run.id, "deadline");
    await t.advance("1h");
    await until(t, run.id, "late");
    for (let i = 0; i < 500; i++) {
      const journal = await t.journal(run.id);
      if (journal.some((e) => e.type === "wait_completed" && e.key === "x#1")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.advance("1h");
    await settle(t, run);
    return run.id;
  },
  async patched(t) {
    const run = await t.start(fixtures.patched, {}, { id: "patched-1" });
    await settle(t, run);
    return run.id;
  },
  async memory(t) {
    const run = await t.start(fixtures.memory, { customer: "42" }, { id: "memory-1" });
    await settle(t, run);
    return run.id;
  },
  async shaped(t) {
    const run = await t.start(fixtures.shaped, { id: "s-1" }, { id: "shaped-1" });
    await until(t, run.id, "paid");
    await t.event("fixture.paid", { id: "s-1", cents: 1200 }, "paid-s-1");
    await settle(t, run);
    return run.id;
  },
  async continued(t) {
    const run = await t.start(fixtures.continued, { round: 1 }, { id: "continued-1" });
    await settle(t, run);
    return run.id;
  },
  async rewound(t) {
    const run = await t.start(fixtures.rewound, {}, { id: "rewound-1" });
    await settle(t, run);
    fixtures.parser.fixed = true;
    await t.rewind(run.id, { toStep: "parse", by: "maria@example.com" });
    await settle(t, t.handle(run.id));
    return run.id;
  },
  async forked(t) {
    const original = await t.start(fixtures.forked, {}, { id: "forked-0" });
    await settle(t, original);
    const fork = await t.fork(original.id, {
      atStep: "classify",
      output: "positive",
      id: "forked-1",
      by: "maria@example.com",
    });
    await settle(t, t.handle(fork.id));
    return fork.id;
  },
  async "timed-out"(t) {
    const run = await t.start(fixtures.timedOut, {}, { id: "timed-out-1" });
    await settle(t, run);
    return run.id;
  },
};

/** Waits (in real time) until the run's journal holds a wait or sleep named `name`. */
async function until(t: TestEngine, runId: string, name: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const journal = await t.journal(runId);
    if (journal.some((e) => e.key === `${name}#1`)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run ${runId} never reached '${name}'`);
}

const t = await createTestEngine({ workflows: fixtures.all });
try {
  const only = process.argv.slice(2);
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const id = await scenario(t);
    const run = await t.store.getRun(id);
    if (run === null) throw new Error(`run ${id} is gone`);
    const entries = (await t.store.readJournal(id)).map((e) => ({
      ...e,
      // Call sites are recorded as absolute paths; keep them relative to the repository.
      data: e.data?.replaceAll(`${root}/`, "") ?? null,
    }));
    const file = {
      id,
      workflow: run.workflow,
      version: run.version,
      status: run.status,
      input: run.input,
    };
    writeFileSync(join(out, `${name}.jsonl`), formatJournalFile(file, entries));
    console.log(`${name}.jsonl: ${entries.length} entries, ${run.status}`);
  }
} finally {
  await t.close();
}
