// Proves sagas against SIGKILL at their most delicate instants, on real processes and a real
// SQLite file or PostgreSQL database: a worker kills itself right after a failing step's
// failure was committed and before the first undo, between two undos, inside the failing
// step, and between two undos of a cancelled run. A new worker then finishes the run: every
// undo is journaled exactly once, newest first, and the run ends with its original error (or
// as cancelled) after them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode } from "../support/processes.js";

const WORKER = new URL("../fixtures/saga-worker.mjs", import.meta.url).pathname;

/** The client's view of the workers' workflows: only their names matter to start runs. */
const trip = workflow("trip", async () => "booked");
const order = workflow("order", async () => "shipped");

/** What ran in `runId`, in order, from the log the workers append to. */
function ranIn(logPath: string, runId: string): string[] {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`ran ${runId} `))
    .map((l) => l.slice(`ran ${runId} `.length));
}

interface Target {
  client: Engine;
  /** Starts a worker; `killAt` names the body at whose start it SIGKILLs itself. */
  worker(killAt: string | null): ReturnType<typeof spawnNode>;
  logPath: string;
}

async function undosOf(client: Engine, runId: string) {
  const journal = await client.journal(runId);
  return {
    journal,
    undone: journal
      .filter((e) => e.type === "step_succeeded" && e.key?.startsWith("undo "))
      .map((e) => e.key),
  };
}

/** Runs `start` on a worker that kills itself at `killAt`, then finishes on a new worker. */
async function killThenFinish(
  t: Target,
  killAt: string,
  start: (client: Engine) => Promise<string>,
  ended: (status: string) => boolean,
): Promise<string> {
  const first = t.worker(killAt);
  await first.waitFor(/^ready /, 60_000);
  const runId = await start(t.client);
  expect(await first.exited, `the worker killed itself at '${killAt}'`).toBe("SIGKILL");
  expect((await t.client.getRun(runId))?.status).toBe("running");
  const second = t.worker(null);
  await second.waitFor(/^ready /, 60_000);
  await eventually(
    async () => ended((await t.client.getRun(runId))?.status ?? ""),
    60_000,
    `run ${runId} to end`,
  );
  second.process.kill("SIGKILL");
  await second.exited;
  return runId;
}

function sagaCases(setup: () => Promise<Target>): void {
  const failing = (killAt: string, id: string) => async () => {
    const t = await setup();
    const runId = await killThenFinish(
      t,
      killAt,
      async (client) => (await client.start(trip, undefined, { id })).id,
      (s) => s === "failed",
    );
    const info = await t.client.getRun(runId);
    expect(info?.error?.message).toBe("card declined");
    const { journal, undone } = await undosOf(t.client, runId);
    expect(undone, "each undo journaled once, newest first").toEqual([
      "undo car#1",
      "undo hotel#1",
      "undo flight#1",
    ]);
    expect(journal.filter((e) => e.type === "step_failed").map((e) => e.key)).toEqual(["pay#1"]);
    expect(journal.filter((e) => e.type === "run_recovered")).toHaveLength(1);
    expect(journal.at(-1)?.type).toBe("run_failed");
    // The undos ran after the failure, newest first; only the killed body ran twice.
    const ran = ranIn(t.logPath, runId);
    const again = ran.filter((r) => r === killAt).length;
    expect(again, `'${killAt}' ran, was killed, and ran again`).toBe(2);
    expect(ran.filter((r, i) => ran.indexOf(r) === i)).toEqual([
      "pay",
      "undo car",
      "undo hotel",
      "undo flight",
    ]);
    expect(ran).toHaveLength(5);
  };

  it(
    "undoes every step once when killed right after the failure was committed, before any undo",
    failing("undo car", "trip-after-failure"),
  );
  it("undoes every step once when killed between two undos", failing("undo hotel", "trip-between"));
  it("undoes every step once when killed inside the failing step", failing("pay", "trip-in-step"));

  it("undoes every step once, newest first, when killed between two undos of a cancel", async () => {
    const t = await setup();
    const runId = await killThenFinish(
      t,
      "undo reserve",
      async (client) => {
        const run = await client.start(order, undefined, { id: "order-cancelled" });
        await eventually(
          async () => (await client.journal(run.id)).some((e) => e.type === "wait_started"),
          30_000,
          "the order to wait",
        );
        await client.cancel(run.id, "customer changed their mind");
        return run.id;
      },
      (s) => s === "cancelled",
    );
    const { journal, undone } = await undosOf(t.client, runId);
    expect(undone).toEqual(["undo charge#1", "undo reserve#1"]);
    expect(journal.at(-1)?.type).toBe("run_cancelled");
    expect(ranIn(t.logPath, runId)).toEqual(["undo charge", "undo reserve", "undo reserve"]);
  });
}

describe("sagas across SIGKILL on SQLite", () => {
  sagaCases(async () => {
    const dir = tempDir();
    const path = join(dir, "sagas.db");
    const client = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [trip, order],
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

describe("sagas across SIGKILL on PostgreSQL", () => {
  sagaCases(async () => {
    const url = await freshDatabase();
    const client = await postgresEngine({ url, workflows: [trip, order], worker: false });
    const logPath = join(tempDir(), "ran.log");
    // Restarted under its old identity, the worker reclaims its runs at once.
    return {
      client,
      logPath,
      worker: (killAt) => spawnNode(WORKER, ["postgres", url, logPath, "w-1", killAt ?? "-"]),
    };
  });
});
