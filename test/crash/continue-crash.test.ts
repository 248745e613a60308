// Proves ctx.continueAsNew against SIGKILL, on real processes and a real SQLite file or
// PostgreSQL database: a worker kills itself in the last step of a journal segment (before
// its continue), in the first step of the next one (right after the continue was committed
// and the run claimed again) and in the last step of that one. A new worker finishes the
// run: it ends with the last segment's values, every step is journaled once, each segment
// starts once (one run_continued per continue, with its input), and only the killed step's
// body ran twice, with the same idempotency key.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode } from "../support/processes.js";

const WORKER = new URL("../fixtures/continue-worker.mjs", import.meta.url).pathname;
const TOTAL = 15;

/** The client's view of the worker's workflow: only its name matters to start runs. */
const counter = workflow("counter", async (_ctx, _input: { from: number; total: number }) => [0]);

/** The step bodies that ran in `runId`, in order: [tick, idempotency key]. */
function ranIn(logPath: string, runId: string): Array<[number, string]> {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`ran ${runId} tick `))
    .map((l) => {
      const [tick, key] = l.slice(`ran ${runId} tick `.length).split(" ");
      return [Number(tick), key ?? ""];
    });
}

interface Target {
  client: Engine;
  worker(killAt: string | null): ReturnType<typeof spawnNode>;
  logPath: string;
}

function continueCases(setup: () => Promise<Target>): void {
  const killed = (killAt: string, id: string) => async () => {
    const t = await setup();
    const first = t.worker(killAt);
    await first.waitFor(/^ready /, 60_000);
    await t.client.start(counter, { from: 0, total: TOTAL }, { id });
    expect(await first.exited, `the worker killed itself at '${killAt}'`).toBe("SIGKILL");
    const second = t.worker(null);
    await second.waitFor(/^ready /, 60_000);
    await eventually(
      async () => (await t.client.getRun(id))?.status === "completed",
      60_000,
      `run ${id} to complete`,
    );
    second.process.kill("SIGKILL");
    await second.exited;

    expect(await t.client.handle(id).result()).toEqual([10, 11, 12, 13, 14]);
    const journal = await t.client.journal(id);
    const steps = journal.filter((e) => e.type === "step_succeeded");
    expect(
      steps.map((e) => (e.data as { result: number }).result),
      "each step journaled once, in order",
    ).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    const continued = journal.filter((e) => e.type === "run_continued");
    expect(continued.map((e) => e.data)).toEqual([
      { segment: 2, positions: 5, input: { from: 5, total: TOTAL } },
      { segment: 3, positions: 10, input: { from: 10, total: TOTAL } },
    ]);
    expect(journal.filter((e) => e.type === "run_recovered")).toHaveLength(1);
    expect(journal.filter((e) => e.type === "run_completed")).toHaveLength(1);
    expect(journal.at(-1)?.segment).toBe(3);
    // Only the killed body ran twice, with the same idempotency key; keys differ by segment.
    const ran = ranIn(t.logPath, id);
    const tick = Number(killAt.split(" ")[1]);
    expect(ran.map(([i]) => i)).toEqual([
      ...Array.from({ length: tick + 1 }, (_, i) => i),
      ...Array.from({ length: TOTAL - tick }, (_, i) => tick + i),
    ]);
    const keys = new Map<number, Set<string>>();
    for (const [i, key] of ran) keys.set(i, (keys.get(i) ?? new Set()).add(key));
    expect([...keys.values()].every((k) => k.size === 1)).toBe(true);
    expect(new Set(ran.map(([, key]) => key)).size).toBe(TOTAL);
  };

  it(
    "carries on once when killed in the last step of a segment",
    killed("tick 4", "before-continue"),
  );
  it(
    "carries on once when killed in the first step after a continue",
    killed("tick 5", "after-continue"),
  );
  it(
    "carries on once when killed in the last step of the second segment",
    killed("tick 9", "second-segment"),
  );
}

describe("continue as new across SIGKILL on SQLite", () => {
  continueCases(async () => {
    const dir = tempDir();
    const path = join(dir, "continue.db");
    const client = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [counter],
      worker: false,
      logger: { warn: () => {} },
    });
    onCleanup(() => client.close());
    const logPath = join(dir, "ran.log");
    let n = 0;
    return {
      client,
      logPath,
      worker: (killAt) => spawnNode(WORKER, ["sqlite", path, logPath, `w-${++n}`, killAt ?? "-"]),
    };
  });
});

describe("continue as new across SIGKILL on PostgreSQL", () => {
  continueCases(async () => {
    const url = await freshDatabase();
    const client = await postgresEngine({ url, workflows: [counter], worker: false });
    const logPath = join(tempDir(), "ran.log");
    // Restarted under its old identity, the worker reclaims its runs at once.
    return {
      client,
      logPath,
      worker: (killAt) => spawnNode(WORKER, ["postgres", url, logPath, "w-1", killAt ?? "-"]),
    };
  });
});
