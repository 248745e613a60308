// The workloads users have, on SQLite, beside the floor measured in the same run: ids the
// callers choose (random UUIDs), runs started while others run, and a store that has been in
// use for a while (not a new file). The floor is group-committed single-row inserts: the
// same number of rows, committed in transactions of as many rows as a round of group commits
// holds, on a file with the same settings.
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { createEngine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { median, tenSteps } from "./sequential.js";

const silent = { warn: () => {} };

/** Rows per second of `rows` single-row inserts committed `perCommit` at a time (median of 3). */
export function groupFloor(path, durability, rows, perCommit) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "fsync" ? "FULL" : "NORMAL"}`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, data TEXT)");
  const insert = db.prepare("INSERT INTO t (run_id, data) VALUES (?, ?)");
  const commit = db.transaction((ids, round) => {
    for (const id of ids) insert.run(id, `{"attempt":1,"result":${round}}`);
  });
  const ids = Array.from({ length: perCommit }, () => randomUUID());
  const rates = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < rows; done += perCommit) commit(ids, done);
    rates.push(rows / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  db.close();
  return median(rates);
}

/** One round: `runs` runs of 10 steps started at once with random ids; steps per second. */
async function round(engine, runs) {
  const t0 = process.hrtime.bigint();
  const handles = await Promise.all(
    Array.from({ length: runs }, () => engine.start(tenSteps, undefined, { id: randomUUID() })),
  );
  await Promise.all(handles.map((h) => h.result()));
  return (runs * 10) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/**
 * `runs` x 10 steps started at once with random caller-given ids: the first round on a new
 * file (cold), then the median of `rounds` after `warmup` more.
 */
export async function randomIds(path, durability, runs, warmup, rounds) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability }),
    workflows: [tenSteps],
    logger: silent,
    gcSchedule: null,
  });
  const cold = await round(engine, runs);
  for (let i = 0; i < warmup; i++) await round(engine, runs);
  const rates = [];
  for (let i = 0; i < rounds; i++) rates.push(await round(engine, runs));
  await engine.close();
  return { runs, cold, stepsPerSecond: median(rates), best: Math.max(...rates) };
}

/**
 * Runs started while others run: `callers` callers each start a run of 10 steps (random id),
 * wait for its result and start the next, for `ms`; steps per second over all of them.
 */
export async function startedWhileRunning(path, durability, callers, ms) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability }),
    workflows: [tenSteps],
    logger: silent,
    gcSchedule: null,
  });
  await round(engine, 200);
  let runs = 0;
  const t0 = performance.now();
  const until = t0 + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        await (await engine.start(tenSteps, undefined, { id: randomUUID() })).result();
        runs++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await engine.close();
  return { callers, runs, stepsPerSecond: (runs * 10) / seconds };
}

/**
 * A store in use for a while: `prefill` runs of 10 steps (random ids) already finished in the
 * file, then `runs` x 10 steps at once as in {@link randomIds} (median of `rounds`).
 */
export async function usedStore(path, durability, prefill, runs, rounds) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability }),
    workflows: [tenSteps],
    logger: silent,
    gcSchedule: null,
  });
  for (let done = 0; done < prefill; done += 2_000) await round(engine, 2_000);
  const rates = [];
  for (let i = 0; i < rounds; i++) rates.push(await round(engine, runs));
  await engine.close();
  return { prefill, runs, stepsPerSecond: median(rates) };
}
