// npm run bench: endure's figures beside their floors, measured in the same run on this
// machine. Prints a table and writes bench/results/latest.json. Ratios hold across noisy
// shared machines; absolute times do not.
//
//   node --expose-gc bench/run.js [--quick] [--only=sqlite]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { createTestClock } from "endure/testing";

const quick = process.argv.includes("--quick");
const results = { machine: machine(), when: new Date().toISOString(), sqlite: {} };
const rows = [];
const dir = mkdtempSync(join(tmpdir(), "endure-bench-"));
const silent = { warn: () => {} };

const tenSteps = workflow("ten-steps", async (ctx) => {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await ctx.step("step", () => i);
  return total;
});
const noSteps = workflow("no-steps", async () => 0);
const sleeper = workflow("sleeper", async (ctx) => {
  await ctx.sleep("nap", "1d");
  return 1;
});

function machine() {
  return { node: process.version, platform: process.platform, arch: process.arch };
}

function file(name) {
  return join(dir, `${name}-${Math.random().toString(36).slice(2)}.db`);
}

/**
 * The floor a step is measured against: one single-row commit on its own connection and
 * file, with the same durability setting.
 */
function openFloor(durability) {
  const db = new Database(file("floor"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "fsync" ? "FULL" : "NORMAL"}`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, data TEXT)");
  const insert = db.prepare("INSERT INTO t (run_id, data) VALUES (?, ?)");
  return {
    commitUs(n) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) insert.run("run", `{"attempt":1,"result":${i}}`);
      return Number(process.hrtime.bigint() - t0) / 1e3 / n;
    },
    close: () => db.close(),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Sequential runs, one at a time, in blocks interleaved with blocks of floor commits, so that
 * the machine's drift hits both alike; each block pair gives a ratio, and the median is kept.
 */
async function sequential(durability, blocks, runsPerBlock) {
  const floor = openFloor(durability);
  const engine = await createEngine({
    store: sqliteStore(file("seq"), { durability }),
    workflows: [tenSteps, noSteps],
    logger: silent,
  });
  const timeRuns = async (wf) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < runsPerBlock; i++) await (await engine.start(wf, undefined)).result();
    return Number(process.hrtime.bigint() - t0) / 1e3 / runsPerBlock;
  };
  floor.commitUs(100);
  await timeRuns(tenSteps);
  const samples = [];
  for (let b = 0; b < blocks; b++) {
    const floorUs = floor.commitUs(runsPerBlock * 10);
    const emptyRunUs = await timeRuns(noSteps);
    const tenStepRunUs = await timeRuns(tenSteps);
    samples.push({
      floorUs,
      emptyRunUs,
      tenStepRunUs,
      perStepUs: tenStepRunUs / 10,
      marginalStepUs: (tenStepRunUs - emptyRunUs) / 10,
    });
  }
  await engine.close();
  floor.close();
  const pick = (k) => median(samples.map((s) => s[k]));
  return {
    floorCommitUs: pick("floorUs"),
    emptyRunUs: pick("emptyRunUs"),
    tenStepRunUs: pick("tenStepRunUs"),
    perStepUs: pick("perStepUs"),
    marginalStepUs: pick("marginalStepUs"),
    perStepRatio: median(samples.map((s) => s.perStepUs / s.floorUs)),
    marginalRatio: median(samples.map((s) => s.marginalStepUs / s.floorUs)),
    blocks: samples,
  };
}

/** Median of `rounds` rounds of `runs` runs started at once, after one warm-up round. */
async function throughput(durability, runs, rounds) {
  const engine = await createEngine({
    store: sqliteStore(file("tput"), { durability }),
    workflows: [tenSteps],
    logger: silent,
  });
  const round = async () => {
    const t0 = process.hrtime.bigint();
    const handles = await Promise.all(
      Array.from({ length: runs }, () => engine.start(tenSteps, undefined)),
    );
    await Promise.all(handles.map((h) => h.result()));
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  await round();
  const times = [];
  for (let i = 0; i < rounds; i++) times.push(await round());
  await engine.close();
  times.sort((a, b) => a - b);
  const seconds = times[Math.floor(times.length / 2)];
  return {
    runs,
    steps: runs * 10,
    rounds,
    seconds,
    stepsPerSecond: (runs * 10) / seconds,
    bestStepsPerSecond: (runs * 10) / times[0],
  };
}

async function evictedMemory(runs) {
  const clock = createTestClock(Date.now());
  const path = file("evict");
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [sleeper],
    clock,
    logger: silent,
  });
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    return process.memoryUsage().heapUsed;
  };
  // Warm up so that compiled code and caches are in the baseline.
  await Promise.all(Array.from({ length: 200 }, () => engine.start(sleeper, undefined)));
  await waitWaiting(engine, 200);
  const sizeBefore = statSync(path).size + walSize(path);
  const before = await settle();
  for (let done = 0; done < runs; done += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, runs - done) }, () => engine.start(sleeper, undefined)),
    );
  }
  await waitWaiting(engine, runs + 200);
  const after = await settle();
  const sizeAfter = statSync(path).size + walSize(path);
  await engine.close();
  return {
    runs,
    heapBytesPerRun: Math.max(0, after - before) / runs,
    storeBytesPerRun: (sizeAfter - sizeBefore) / runs,
  };
}

function walSize(path) {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

async function waitWaiting(engine, n) {
  for (;;) {
    const page = await engine.listRuns({ status: "waiting", limit: 1000 });
    let count = page.runs.length;
    let next = page.next;
    while (next !== null && count < n) {
      const more = await engine.listRuns({ status: "waiting", limit: 1000, cursor: next });
      count += more.runs.length;
      next = more.next;
    }
    if (count >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function row(metric, value, unit, floor, target, note = "") {
  rows.push({ metric, value, unit, floor, target, note });
}

const fmt = (n) =>
  typeof n === "number" ? (n >= 100 ? n.toFixed(0) : n.toFixed(2)) : String(n ?? "");

for (const durability of ["fsync", "process"]) {
  const seq = await sequential(durability, quick ? 5 : 15, quick ? 10 : 20);
  const tput = await throughput(durability, 1000, quick ? 3 : 7);
  results.sqlite[durability] = { sequential: seq, throughput: tput };
  const floor = seq.floorCommitUs;
  row(`sqlite ${durability}: floor, one single-row commit`, floor, "µs", "", "");
  row(
    `sqlite ${durability}: per-step overhead (10-step run minus empty run, /10)`,
    seq.marginalStepUs,
    "µs",
    `${fmt(floor)} µs`,
    "≤ 1.2x floor",
    `${fmt(seq.marginalRatio)}x floor`,
  );
  row(
    `sqlite ${durability}: 10-step run incl. start and end, /10`,
    seq.perStepUs,
    "µs",
    `${fmt(floor)} µs`,
    "",
    `${fmt(seq.perStepRatio)}x floor (11 commits per 10 steps)`,
  );
  row(
    `sqlite ${durability}: 1,000 runs x 10 steps at once (median)`,
    tput.stepsPerSecond,
    "steps/s",
    "",
    durability === "fsync" ? "≥ 50,000" : "",
    `${fmt(tput.seconds * 1000)} ms; best ${fmt(tput.bestStepsPerSecond)}/s`,
  );
}
const mem = await evictedMemory(quick ? 2_000 : 20_000);
results.sqlite.evicted = mem;
row(
  `sqlite: heap held per run evicted while sleeping (${mem.runs} runs)`,
  mem.heapBytesPerRun,
  "bytes",
  "",
  "≈ 0",
);
row("sqlite: store size per sleeping run", mem.storeBytesPerRun, "bytes", "", "");

const width = Math.max(...rows.map((r) => r.metric.length));
console.log(
  `endure benchmarks — node ${process.version}, ${results.when}${quick ? " (quick)" : ""}\n`,
);
console.log(
  `${"metric".padEnd(width)}  ${"value".padStart(10)}  unit      floor        target          note`,
);
for (const r of rows) {
  console.log(
    `${r.metric.padEnd(width)}  ${fmt(r.value).padStart(10)}  ${r.unit.padEnd(8)}  ${String(r.floor).padEnd(11)}  ${String(r.target).padEnd(14)}  ${r.note}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/latest.json", import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log("\nwrote bench/results/latest.json");
rmSync(dir, { recursive: true, force: true });
