// Proves durable memory against SIGKILL on real processes: two workers (on one SQLite file, or
// on one PostgreSQL database) execute runs that all update one memory key, while they are
// killed at random instants and restarted. No update is lost or made twice (the key ends at
// the number of updates, at that version, and every run saw distinct values), and every
// replay after a kill saw the values the first execution saw (logged outside the processes).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode, type Child } from "../support/processes.js";
import { order } from "../fixtures/update-workflow.mjs";

const WORKER = new URL("../fixtures/memory-worker.mjs", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client's view of the workers' workflow: only its name matters to start runs. */
const tally = workflow("tally", async () => [] as number[]);

/** Every `seen` line of the log: run, update number, value. */
function readSeen(path: string): Array<{ run: string; i: number; value: number }> {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("seen "))
    .map((l) => {
      const [, run = "", i = "", value = ""] = l.split(" ");
      return { run, i: Number(i), value: Number(value) };
    });
}

async function killAndCheck(
  client: Engine,
  launch: (slot: number) => Child,
  logPath: string,
): Promise<void> {
  const runs = 6;
  const n = 25;
  const ids = Array.from({ length: runs }, (_, i) => `tally-${i}`);
  const slots = [launch(0), launch(1)];
  await Promise.all(slots.map((c) => c.waitFor(/^ready /, 60_000)));
  await Promise.all(
    ids.map((id) => client.start(tally, { key: "shared", n, restMs: 120 }, { id })),
  );
  const done = async () => {
    const infos = await Promise.all(ids.map((id) => client.getRun(id)));
    return infos.filter((r) => r?.status === "completed").length;
  };
  const seenBy = (c: Child) => c.lines.filter((l) => l.startsWith("seen ")).length;
  let kills = 0;
  // Kill the worker that just saw an update commit (so that its runs replay past it), a few
  // milliseconds later, six times, while runs are still going.
  while (kills < 6 && (await done()) < runs) {
    const marks = slots.map(seenBy);
    const busy = await eventually(
      () => slots.findIndex((c, k) => seenBy(c) > (marks[k] ?? 0)) + 1,
      30_000,
      "an update to commit",
    ).catch(() => 0);
    if (busy === 0) break;
    await sleep(Math.random() * 30);
    const victim = slots[busy - 1] as Child;
    victim.process.kill("SIGKILL");
    await victim.exited;
    kills++;
    slots[busy - 1] = launch(busy - 1);
  }
  await eventually(async () => (await done()) === runs, 120_000, "every run to complete");
  // Graceful stops are proven elsewhere; here the workers only have to be gone.
  for (const child of slots) child.process.kill("SIGKILL");
  await Promise.all(slots.map((c) => c.exited));

  const total = runs * n;
  const key = await client.memory<number>("tally", "shared").info();
  expect(key?.value, "no update lost").toBe(total);
  expect(key?.version, "no update made twice").toBe(total);
  const outputs = await Promise.all(ids.map(async (id) => (await client.getRun(id))?.output));
  const values = outputs.flatMap((o) => o as number[]);
  expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  // What each replay saw: the value the first execution saw, for every update.
  const seen = readSeen(logPath);
  const first = new Map<string, number>();
  let replayed = 0;
  for (const s of seen) {
    const id = `${s.run} ${s.i}`;
    const before = first.get(id);
    if (before === undefined) first.set(id, s.value);
    else {
      replayed++;
      expect(s.value, `${id} on replay`).toBe(before);
    }
  }
  expect(first.size).toBe(total);
  for (const [index, id] of ids.entries())
    for (let i = 1; i <= n; i++) expect(first.get(`${id} ${i}`)).toBe(values[index * n + i - 1]);
  expect(kills).toBeGreaterThanOrEqual(4);
  expect(replayed, "kills made runs replay past committed updates").toBeGreaterThan(0);
}

describe("durable memory under SIGKILL", () => {
  it("two workers on one SQLite file lose no update of one key and replay what they saw", async () => {
    const dir = tempDir();
    const path = join(dir, "memory.db");
    const logPath = join(dir, "seen.log");
    const client = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [tally],
      worker: false,
      logger: { warn: () => {} },
    });
    onCleanup(() => client.close());
    let generation = 0;
    await killAndCheck(
      client,
      (slot) => spawnNode(WORKER, ["sqlite", path, logPath, `w${slot}-${++generation}`, "2000"]),
      logPath,
    );
  });

  it("two workers on PostgreSQL lose no update of one key and replay what they saw", async () => {
    const url = await freshDatabase();
    const logPath = join(tempDir(), "seen.log");
    const client = await postgresEngine({ url, workflows: [tally], worker: false });
    // Restarted under their old identity, workers reclaim their runs at once.
    await killAndCheck(
      client,
      (slot) => spawnNode(WORKER, ["postgres", url, logPath, `w${slot}`, "2000"]),
      logPath,
    );
  });

  it("an update is delivered once across a kill of the worker mid-handler and a retry of the caller", async () => {
    const dir = tempDir();
    const path = join(dir, "update.db");
    const logPath = join(dir, "apply.log");
    const client = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [order],
      worker: false,
      logger: { warn: () => {} },
    });
    onCleanup(() => client.close());
    let worker = spawnNode(WORKER, ["sqlite", path, logPath, "w-1", "2000"]);
    await worker.waitFor(/^ready /, 60_000);
    await client.start(order, { address: "a@b.c", log: logPath, applyMs: 400 }, { id: "o1" });
    await eventually(async () => (await client.approvals()).length === 1, 20_000, "approval");
    const first = client.update("o1", "address", "d@e.f", { id: "u1" });
    // Kill the worker while the handler's step runs (its effect logged, not yet committed).
    await eventually(() => existsSync(logPath), 20_000, "the handler's step to start");
    worker.process.kill("SIGKILL");
    await worker.exited;
    worker = spawnNode(WORKER, ["sqlite", path, logPath, "w-2", "2000"]);
    expect(await first).toEqual({ address: "d@e.f" });
    // The caller retries (it lost the answer): the first outcome, and nothing runs again.
    expect(await client.update("o1", "address", "d@e.f", { id: "u1" })).toEqual({
      address: "d@e.f",
    });
    const journal = await client.journal("o1");
    expect(journal.filter((e) => e.type === "step_succeeded" && e.key === "apply#1")).toHaveLength(
      1,
    );
    expect(
      journal.filter((e) => e.type === "step_succeeded" && e.key === "endure.update u1#1"),
    ).toHaveLength(1);
    expect(journal.filter((e) => e.type === "run_recovered")).toHaveLength(1);
    expect(await client.query("o1", "address")).toBe("d@e.f");
    await client.approve("o1", "ship", { by: "ana" });
    expect(await client.handle("o1").result()).toBe("d@e.f");
    worker.process.kill("SIGKILL");
  });
});
