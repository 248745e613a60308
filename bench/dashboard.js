// Dashboard figures: the shipped bundle's size (gzipped), and the time from opening the runs
// list in Debian's Chromium to its first rows, against the real server on loopback over a
// SQLite file holding RUNS finished runs. Run with: npm run build && node bench/dashboard.js
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { createEngine, workflow } from "../dist/index.js";
import { sqliteStore } from "../dist/store/sqlite/index.js";
import { createServer, dashboardDir } from "../dist/server/index.js";

const RUNS = Number(process.env.RUNS ?? 2000);
const ROUNDS = 5;
const dir = dashboardDir();
if (dir === null) throw new Error("run npm run build first");

let raw = 0;
let gz = 0;
for (const f of ["index.html", ...readdirSync(join(dir, "assets")).map((a) => `assets/${a}`)]) {
  const bytes = readFileSync(join(dir, f));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
console.log(`bundle: ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);

const tmp = mkdtempSync(join(tmpdir(), "endure-bench-dashboard-"));
const done = workflow("done", async (ctx, n) => ctx.step("one", async () => n));
const engine = await createEngine({
  store: sqliteStore(join(tmp, "endure.db"), { durability: "process" }),
  workflows: [done],
  logger: { warn: () => {} },
  gcSchedule: null,
});
for (let i = 0; i < RUNS; i++) await engine.start(done, i, { id: `run-${i}` });
const tokens = [{ name: "bench", token: "bench-token-0123456789", role: "admin" }];
const server = createServer({ engine, tokens, staticDir: dir });
const { url } = await server.listen({ port: 0 });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const times = [];
for (let round = 0; round < ROUNDS; round++) {
  const context = await browser.newContext();
  await context.addInitScript((t) => sessionStorage.setItem("endure.token", t), tokens[0].token);
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${url}/#/runs`);
  await page.locator("tr[data-run]").first().waitFor({ timeout: 60_000 });
  times.push(Date.now() - started);
  await context.close();
}
times.sort((a, b) => a - b);
console.log(
  `first render of the runs list (${RUNS} runs in the store, ${ROUNDS} rounds): median ${times[Math.floor(ROUNDS / 2)]} ms, min ${times[0]} ms, max ${times[ROUNDS - 1]} ms`,
);
await browser.close();
await server.close();
await engine.close();
rmSync(tmp, { recursive: true, force: true });
