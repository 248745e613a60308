// Proves child runs against SIGKILL on real processes: a parent invokes 50 children at once
// (ctx.all over ctx.invoke) on a real SQLite file, whose one worker process is killed at
// random instants and started again, and on a real PostgreSQL database, whose two worker
// processes are killed together at random instants and started again under their identities.
// The parent ends with all 50 outputs in order; every child ended completed as a child of
// the parent; each child's transactional step took effect exactly once (one row), each step
// is journaled once, a plain step's body ran again only in a later worker after a kill (and
// with the same idempotency key); the parent's journal ends each child wait once and no wait
// is left open.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode, type Child } from "../support/processes.js";

const WORKER = new URL("../fixtures/children-worker.mjs", import.meta.url).pathname;
const CHILDREN = 50;
const PARENT = "fan-50";

/** The client's view of the workers' workflows: only their names matter. */
const fanout = workflow("fanout", async (_ctx, _input: { n: number }) => [] as string[]);

interface Target {
  client: Engine;
  logPath: string;
  /** Starts the workers of generation `gen`. */
  workers(gen: number): Child[];
  /** Rows in kid_effects, by run id. */
  effects(): Promise<Map<string, number>>;
  /** Waits still open in the store. */
  openWaits(): Promise<unknown[]>;
}

interface Ran {
  gen: number;
  runId: string;
  step: string;
  key: string;
}

function ranLines(logPath: string): Ran[] {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("ran "))
    .map((l) => {
      const [, gen, runId, step, key] = l.split(" ");
      return { gen: Number(gen), runId: runId ?? "", step: step ?? "", key: key ?? "" };
    });
}

const statusOf = async (client: Engine, id: string) => (await client.getRun(id))?.status;

async function survives(t: Target): Promise<void> {
  let kills = 0;
  let gen = 0;
  for (; gen < 4; gen++) {
    const workers = t.workers(gen);
    for (const w of workers) await w.waitFor(/^ready /, 60_000);
    if (gen === 0) await t.client.start(fanout, { n: CHILDREN }, { id: PARENT });
    // Killed after some progress in this generation, at a random instant.
    const after = 5 + Math.floor(Math.random() * 30);
    const progress = () =>
      workers.reduce((n, w) => n + w.lines.filter((l) => l.startsWith("ran ")).length, 0);
    await eventually(
      async () => progress() >= after || (await statusOf(t.client, PARENT)) === "completed",
      120_000,
      `progress in generation ${gen}`,
    );
    await new Promise((r) => setTimeout(r, Math.random() * 40));
    const done = (await statusOf(t.client, PARENT)) === "completed";
    for (const w of workers) w.process.kill("SIGKILL");
    for (const w of workers) await w.exited;
    if (done) break;
    kills++;
  }
  const last = t.workers(gen + 1);
  for (const w of last) await w.waitFor(/^ready /, 60_000);
  await eventually(
    async () => (await statusOf(t.client, PARENT)) === "completed",
    180_000,
    "the parent to complete",
  );
  for (const w of last) w.process.kill("SIGKILL");
  for (const w of last) await w.exited;
  expect(kills, "a worker generation was killed before the parent ended").toBeGreaterThanOrEqual(1);

  const run = t.client.handle<string[]>(PARENT);
  expect(await run.result()).toEqual(Array.from({ length: CHILDREN }, (_, i) => `out-${i}`));

  const page = await t.client.listRuns({ parentId: PARENT, limit: 100 });
  const ids = page.runs.map((r) => r.id);
  expect(new Set(ids).size).toBe(CHILDREN);
  expect(page.runs.every((r) => r.status === "completed" && r.parentId === PARENT)).toBe(true);

  const effects = await t.effects();
  for (const id of ids) expect(effects.get(id), `${id}'s charge took effect once`).toBe(1);
  expect([...effects.keys()].sort()).toEqual([...ids].sort());

  const ran = ranLines(t.logPath);
  for (const id of ids) {
    const journal = await t.client.journal(id);
    const succeeded = journal.filter((e) => e.type === "step_succeeded").map((e) => e.key);
    expect(succeeded, `${id} journaled each step once`).toEqual(["charge#1", "note#1"]);
    const notes = ran.filter((r) => r.runId === id && r.step === "note");
    expect(notes.length, `${id}'s note ran`).toBeGreaterThanOrEqual(1);
    // Again only in a later worker (its first one was killed before committing it).
    expect(new Set(notes.map((n) => n.gen)).size, `${id}'s note once per worker`).toBe(
      notes.length,
    );
    expect(new Set(notes.map((n) => n.key)).size, `${id}'s note kept its key`).toBe(1);
  }
  const parentJournal = await t.client.journal(PARENT);
  const childEnds = parentJournal.filter((e) => e.type === "wait_completed");
  expect(childEnds).toHaveLength(CHILDREN);
  expect(new Set(childEnds.map((e) => e.key)).size).toBe(CHILDREN);
  expect(parentJournal.filter((e) => e.type === "combinator_settled")).toHaveLength(1);
  expect(parentJournal.at(-1)?.type).toBe("run_completed");
  expect(await t.openWaits(), "no wait left open").toEqual([]);
}

describe("child runs across SIGKILL", () => {
  it("a parent with 50 children survives SIGKILL of its process on SQLite", async () => {
    const dir = tempDir();
    const path = join(dir, "children.db");
    const client = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [fanout],
      worker: false,
      logger: { warn: () => {} },
    });
    onCleanup(() => client.close());
    const raw = new Database(path);
    raw.exec("CREATE TABLE kid_effects (run_id TEXT NOT NULL, step TEXT NOT NULL)");
    onCleanup(() => {
      raw.close();
    });
    const logPath = join(dir, "ran.log");
    await survives({
      client,
      logPath,
      workers: (gen) => [spawnNode(WORKER, ["sqlite", path, logPath, `w-${gen}`, String(gen)])],
      effects: async () => {
        const rows = raw
          .prepare("SELECT run_id, count(*) AS n FROM kid_effects GROUP BY run_id")
          .all() as Array<{ run_id: string; n: number }>;
        return new Map(rows.map((r) => [r.run_id, r.n]));
      },
      openWaits: async () =>
        raw.prepare("SELECT run_id, key FROM waits WHERE status = 'open'").all(),
    });
  }, 480_000);

  it("a parent with 50 children survives SIGKILL of its workers on PostgreSQL", async () => {
    const url = await freshDatabase();
    const client = await postgresEngine({ url, workflows: [fanout], worker: false });
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    onCleanup(() => raw.end());
    await raw.query("CREATE TABLE kid_effects (run_id text NOT NULL, step text NOT NULL)");
    const logPath = join(tempDir(), "ran.log");
    const schema = "endure";
    await survives({
      client,
      logPath,
      // Two workers, restarted under their identities: each reclaims its runs at once.
      workers: (gen) =>
        ["w-1", "w-2"].map((id) => spawnNode(WORKER, ["postgres", url, logPath, id, String(gen)])),
      effects: async () => {
        const { rows } = await raw.query<{ run_id: string; n: string }>(
          "SELECT run_id, count(*) AS n FROM kid_effects GROUP BY run_id",
        );
        return new Map(rows.map((r) => [r.run_id, Number(r.n)]));
      },
      openWaits: async () =>
        (await raw.query(`SELECT run_id, key FROM ${schema}.waits WHERE status = 'open'`)).rows,
    });
  }, 480_000);
});
