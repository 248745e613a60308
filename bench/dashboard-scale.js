// The API calls the dashboard's runs list, overview and approvals inbox make, timed against
// the real server on loopback over a SQLite file holding FINISHED finished runs (default
// 1,000,000) and WAITING runs waiting for an approval (default 1,000), through endure/client,
// and the first render of the runs list in Debian's Chromium over the same store.
//
//   npm run build && node bench/dashboard-scale.js
//
// The store is filled by the engine itself with 1,000 finished runs, whose rows (run and
// journal) SQL then copies under new ids and earlier creation times up to FINISHED; the
// waiting runs are started by the engine and wait for real. Each call is made ROUNDS times
// one after another; the figure is its median, with the slowest.
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createClient } from "../dist/client/index.js";
import { createEngine, workflow } from "../dist/index.js";
import { createServer, dashboardDir } from "../dist/server/index.js";
import { chromium } from "playwright-core";
import { sqliteStore } from "../dist/store/sqlite/index.js";

const FINISHED = Number(process.env.FINISHED ?? 1_000_000);
const WAITING = Number(process.env.WAITING ?? 1_000);
const ROUNDS = Number(process.env.ROUNDS ?? 21);
/** Finished runs the engine makes; SQL copies them up to FINISHED. */
const SEED_RUNS = Math.min(1_000, FINISHED);

const tmp = mkdtempSync(join(tmpdir(), "endure-bench-scale-"));
/** KEEP=<file>: the filled store is copied there afterwards (to look at its queries). */
const keep = process.env.KEEP;
const path = join(tmp, "endure.db");
const done = workflow("report", async (ctx, n) => ctx.step("compile", async () => n * 2));
const ask = workflow("deal", async (ctx, n) =>
  ctx.approval("sign-off", {
    title: `Approve deal ${n}?`,
    details: { n },
    approvers: ["maria@acme.io"],
    timeout: "30d",
  }),
);
const quiet = { warn: () => {} };

let t0 = Date.now();
{
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [done, ask],
    logger: quiet,
    gcSchedule: null,
  });
  const handles = [];
  for (let i = 0; i < SEED_RUNS; i++)
    handles.push(await engine.start(done, i, { id: `seed-${i}` }));
  for (const h of handles) await h.result();
  await engine.close();
}
{
  // Copies of the seed runs, each batch older than the last (1 s apart), as a store in use
  // for a while holds them.
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const runColumns = db
    .prepare("SELECT name FROM pragma_table_info('runs')")
    .all()
    .map((c) => c.name);
  const journalColumns = db
    .prepare("SELECT name FROM pragma_table_info('journal')")
    .all()
    .map((c) => c.name);
  // Copy n of a seed run gets its number shifted by n spans, and its journal rows their keys
  // (a run's number times 2^32 plus the seq) with it.
  const span = db.prepare("SELECT max(run_no) AS m FROM runs").get().m;
  const shifted = (table, cols, idColumn) =>
    cols
      .map((c) =>
        c === idColumn
          ? `'copy-' || b.n || '-' || ${table}.${c}`
          : ["created_at", "updated_at", "ended_at", "at", "started_at"].includes(c)
            ? `${table}.${c} - b.n * ${SEED_RUNS} * 1000`
            : c === "run_no"
              ? `${table}.run_no + b.n * ${span}`
              : c === "k"
                ? `${table}.k + b.n * ${span} * 4294967296`
                : `${table}.${c}`,
      )
      .join(", ");
  const batches = Math.ceil(FINISHED / SEED_RUNS) - 1;
  const copy = db.transaction((from, to) => {
    const range = `WITH RECURSIVE b(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM b WHERE n < ${to})`;
    db.exec(
      `${range} INSERT INTO runs (${runColumns.join(", ")}) SELECT ${shifted("runs", runColumns, "id")} FROM b, runs WHERE runs.id LIKE 'seed-%'`,
    );
    db.exec(
      `${range} INSERT INTO journal (${journalColumns.join(", ")}) SELECT ${shifted("journal", journalColumns, "run_id")} FROM b, journal WHERE journal.run_id LIKE 'seed-%'`,
    );
  });
  for (let from = 1; from <= batches; from += 50) copy(from, Math.min(batches, from + 49));
  db.exec("ANALYZE");
  db.close();
}
const fillSeconds = (Date.now() - t0) / 1000;

const engine = await createEngine({
  store: sqliteStore(path, { durability: "process" }),
  workflows: [done, ask],
  logger: quiet,
  gcSchedule: null,
});
t0 = Date.now();
for (let i = 0; i < WAITING; i++) await engine.start(ask, i, { id: `deal-${i}` });
while ((await engine.approvals({ limit: WAITING })).length < WAITING)
  await new Promise((r) => setTimeout(r, 100));
const token = "bench-token-0123456789";
const staticDir = dashboardDir();
if (staticDir === null) throw new Error("run npm run build first");
const server = createServer({
  engine,
  tokens: [{ name: "bench", token, role: "admin" }],
  staticDir,
});
const { url } = await server.listen({ port: 0 });
const client = createClient({ url, token });

const count = new Database(path, { readonly: true });
const finished = count.prepare("SELECT count(*) AS n FROM runs WHERE status = 'completed'").get().n;
const waiting = count
  .prepare("SELECT count(*) AS n FROM runs WHERE workflow = 'deal' AND ended_at IS NULL")
  .get().n;
count.close();
console.log(
  `store: ${finished.toLocaleString("en")} finished runs, ${waiting.toLocaleString("en")} waiting for an approval, ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB (filled in ${fillSeconds.toFixed(0)} s)`,
);

const firstPage = await client.listRuns({ limit: 50 });
let deep = { next: firstPage.next };
for (let i = 0; i < 200 && deep.next !== null; i++)
  deep = await client.listRuns({ limit: 50, cursor: deep.next });
const deepCursor = deep.next;
const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
const calls = [
  ["GET /v1/whoami (sign-in)", () => client.whoami()],
  ["GET /v1/runs?limit=50 (runs list, first page)", () => client.listRuns({ limit: 50 })],
  [
    "GET /v1/runs?limit=50&cursor= (page 202, 10,050 runs in)",
    () => client.listRuns({ limit: 50, cursor: deepCursor }),
  ],
  ["GET /v1/runs?status=waiting&limit=50", () => client.listRuns({ status: "waiting", limit: 50 })],
  [
    "GET /v1/runs?status=failed&limit=50 (none in the store)",
    () => client.listRuns({ status: "failed", limit: 50 }),
  ],
  [
    "GET /v1/runs?workflow=report&limit=50",
    () => client.listRuns({ workflow: "report", limit: 50 }),
  ],
  [
    "GET /v1/runs?createdAfter=<1 h ago>&limit=50 (overview)",
    () => client.listRuns({ createdAfter: hourAgo, limit: 50 }),
  ],
  [
    "GET /v1/runs?idContains=deal-99&limit=50 (search by id)",
    () => client.listRuns({ idContains: "deal-99", limit: 50 }),
  ],
  ["GET /v1/approvals?limit=200 (inbox)", () => client.approvals({ limit: 200 })],
  ["GET /v1/runs/{id}/explain (a waiting run)", () => client.explain("deal-7")],
];
const rows = [];
for (const [what, call] of calls) {
  await call();
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  rows.push([what, times[Math.floor(times.length / 2)], times[times.length - 1]]);
}
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`${"API call".padEnd(width)}  median      max  (target: median under 50 ms)`);
for (const [what, median, max] of rows)
  console.log(
    `${what.padEnd(width)}  ${median.toFixed(1).padStart(6)} ms  ${max.toFixed(1).padStart(6)} ms`,
  );

// First render of the runs list in Debian's Chromium, signed in, a fresh page each round.
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const renders = [];
for (let round = 0; round < 5; round++) {
  const context = await browser.newContext();
  await context.addInitScript((t) => sessionStorage.setItem("endure.token", t), token);
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${url}/#/runs`);
  await page.locator("tr[data-run]").first().waitFor({ timeout: 60_000 });
  renders.push(Date.now() - started);
  await context.close();
}
await browser.close();
renders.sort((a, b) => a - b);
console.log(
  `first render of the runs list in Chromium (5 rounds): median ${renders[2]} ms, min ${renders[0]} ms, max ${renders[4]} ms (target: under 1 s)`,
);

await server.close();
await engine.close();
if (keep !== undefined) copyFileSync(path, keep);
rmSync(tmp, { recursive: true, force: true });
