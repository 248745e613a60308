// `endure check` (the deploy gate) over a SQLite file holding RUNS runs in flight (default
// 100,000), each waiting for an event after two steps, timed as a deploy pipeline runs it:
// the built command in its own process, `--json`, against the workflows of
// bench/check-workflows.js.
//
//   npm run build && node bench/check-scale.js
//
// The store is filled by the engine itself with 1,000 waiting runs, whose rows (run and
// journal) SQL then copies under new ids up to RUNS. Prints the time the check took, its
// rate in runs a second, and its summary; writes nothing to the store (the file's size and
// modification time are compared before and after).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { createEngine } from "../dist/index.js";
import { sqliteStore } from "../dist/store/sqlite/index.js";
import { order } from "./check-workflows.js";

const RUNS = Number(process.env.RUNS ?? 100_000);
const SEED_RUNS = Math.min(1_000, RUNS);
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const WORKFLOWS = fileURLToPath(new URL("./check-workflows.js", import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), "endure-bench-check-"));
const path = join(tmp, "endure.db");
let t0 = Date.now();
{
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [order],
    logger: { warn: () => {} },
    gcSchedule: null,
    worker: { inMemoryWait: "0s" },
  });
  for (let i = 0; i < SEED_RUNS; i++) await engine.start(order, i, { id: `seed-${i}` });
  for (;;) {
    const page = await engine.listRuns({ status: "waiting", limit: 1000 });
    if (page.runs.length >= SEED_RUNS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await engine.close();
}
{
  const db = new Database(path);
  db.pragma("synchronous = OFF");
  const cols = (table) =>
    db
      .prepare(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name);
  const runColumns = cols("runs");
  const journalColumns = cols("journal");
  // Copy n of a seed run gets its number shifted by n spans, and its journal rows their keys
  // (a run's number times 2^32 plus the seq) with it.
  const span = db.prepare("SELECT max(run_no) AS m FROM runs").get().m;
  const renamed = (table, list, idColumn) =>
    list
      .map((c) =>
        c === idColumn
          ? `'copy-' || b.n || '-' || ${table}.${c}`
          : c === "run_no"
            ? `${table}.run_no + b.n * ${span}`
            : c === "k"
              ? `${table}.k + b.n * ${span} * 4294967296`
              : `${table}.${c}`,
      )
      .join(", ");
  const batches = Math.ceil(RUNS / SEED_RUNS) - 1;
  const copy = db.transaction((from, to) => {
    const range = `WITH RECURSIVE b(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM b WHERE n < ${to})`;
    db.exec(
      `${range} INSERT INTO runs (${runColumns.join(", ")}) SELECT ${renamed("runs", runColumns, "id")} FROM b, runs WHERE runs.id LIKE 'seed-%'`,
    );
    db.exec(
      `${range} INSERT INTO journal (${journalColumns.join(", ")}) SELECT ${renamed("journal", journalColumns, "run_id")} FROM b, journal WHERE journal.run_id LIKE 'seed-%'`,
    );
  });
  for (let from = 1; from <= batches; from += 20) copy(from, Math.min(batches, from + 19));
  db.exec("ANALYZE");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}
const fillSeconds = (Date.now() - t0) / 1000;
const before = statSync(path);

t0 = Date.now();
const check = spawnSync(
  process.execPath,
  [CLI, "check", "--workflows", WORKFLOWS, "--store", path, "--json"],
  { encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: "1" } },
);
const seconds = (Date.now() - t0) / 1000;
if (check.status !== 0) {
  console.error(check.stderr);
  throw new Error(`endure check exited with ${check.status}`);
}
const { summary } = JSON.parse(check.stdout);
const after = statSync(path);
console.log(
  JSON.stringify(
    {
      runs: RUNS,
      fillSeconds,
      checkSeconds: seconds,
      runsPerSecond: Math.round(RUNS / seconds),
      summary,
      storeUnchanged: before.size === after.size && before.mtimeMs === after.mtimeMs,
    },
    null,
    2,
  ),
);
rmSync(tmp, { recursive: true, force: true });
