// npm run bench: endure's figures beside their floors, measured in the same run on this
// machine. Prints a table and writes bench/results/latest.json. Ratios hold across noisy
// shared machines; absolute times do not.
//
//   node --expose-gc bench/run.js [--quick] [--only=sqlite|postgres|api]
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { createTestClock } from "endure/testing";
import { benchApi } from "./api.js";
import { childrenRate, loopTurnsMs, resumeTimes, waitingChildrenMemory } from "./composition.js";
import { eventLatency, eventRate, eventSendRate, waitWaiting } from "./events.js";
import { benchPostgres } from "./postgres.js";
import { benchCodec, benchTelemetry, featureRatio } from "./protect.js";
import { median, noSteps, sequentialSteps, tenSteps } from "./sequential.js";
import { groupFloor, randomIds, startedWhileRunning, usedStore } from "./shapes.js";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? null;
const results = { machine: machine(), when: new Date().toISOString(), sqlite: {} };
const rows = [];
const dir = mkdtempSync(join(tmpdir(), "endure-bench-"));
const silent = { warn: () => {} };

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

/** Per-step overhead beside the floor, on one engine and one floor file. */
async function sequential(durability, blocks, runsPerBlock) {
  const floor = openFloor(durability);
  const engine = await createEngine({
    store: sqliteStore(file("seq"), { durability }),
    workflows: [tenSteps, noSteps],
    logger: silent,
  });
  const result = await sequentialSteps(engine, floor, blocks, runsPerBlock);
  await engine.close();
  floor.close();
  return result;
}

/** Rounds run and dropped before timing: compiled code, the page cache and the WAL file
 * (which grows on a new database) reach their steady state in about three. */
const WARMUP_ROUNDS = 3;

/**
 * Median of `rounds` rounds of `runs` runs started at once, after WARMUP_ROUNDS rounds; the
 * first (cold) round's rate is kept beside it.
 */
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
  const coldSeconds = await round();
  for (let i = 1; i < WARMUP_ROUNDS; i++) await round();
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
    coldStepsPerSecond: (runs * 10) / coldSeconds,
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

/** Store size and worker heap with `n` runs waiting for events at once, all evicted. */
async function manyWaiting(n) {
  const waiter = workflow("many-waiter", async (ctx) =>
    ctx.waitForEvent("go", { event: "go", match: { "data.run": ctx.runId } }),
  );
  const path = file("many");
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [waiter],
    logger: silent,
    gcSchedule: null,
    worker: { inMemoryWait: 1 },
  });
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    return process.memoryUsage().heapUsed;
  };
  await Promise.all(Array.from({ length: 500 }, () => engine.start(waiter, undefined)));
  await waitWaiting(engine, 500);
  const heapBefore = await heap();
  const sizeBefore = statSync(path).size + walSize(path);
  const t0 = performance.now();
  for (let done = 0; done < n; done += 2000) {
    await Promise.all(
      Array.from({ length: Math.min(2000, n - done) }, () => engine.start(waiter, undefined)),
    );
  }
  await waitWaiting(engine, n + 500);
  const seconds = (performance.now() - t0) / 1000;
  const heapAfter = await heap();
  const sizeAfter = statSync(path).size + walSize(path);
  await engine.close();
  return {
    n,
    seconds,
    heapBytesPerRun: Math.max(0, heapAfter - heapBefore) / n,
    heapAfterMiB: heapAfter / 2 ** 20,
    storeBytesPerRun: (sizeAfter - sizeBefore) / n,
    storeMiB: sizeAfter / 2 ** 20,
  };
}

/** Resume time by journal size, a parent with 1,000 children, a parent waiting on 1,000. */
async function composition() {
  const resume = await resumeTimes(file("resume"), {
    sizes: [10, 1_000, 10_000],
    rounds: quick ? 3 : 7,
    durability: "fsync",
  });
  const small = resume[0];
  const large = resume[resume.length - 1];
  const replayed = (large.entries - small.entries) / 2;
  const turns = [];
  for (let i = 0; i < 3; i++) turns.push(await loopTurnsMs(replayed));
  const turnsMs = median(turns);
  for (const r of resume) {
    row(
      `sqlite fsync: resume a run of ${r.entries.toLocaleString("en-US")} journal entries (median)`,
      r.medianMs,
      "ms",
      `${fmt(r.floorMs)} ms`,
      "",
      "signal to the next step's body, on a fresh engine; floor: its journal read by one SELECT",
    );
  }
  const perEntryUs = ((large.medianMs - small.medianMs) * 1000) / (large.entries - small.entries);
  row(
    `sqlite fsync: resume time, ${large.entries.toLocaleString("en-US")} entries beside ${small.entries}`,
    large.medianMs / small.medianMs,
    "x",
    `${fmt(small.medianMs)} ms`,
    "≤ 2x",
    `+${fmt(perEntryUs)} µs per entry; ${replayed} event-loop turns alone take ${fmt(turnsMs)} ms`,
  );
  const children = await childrenRate(file("children"), {
    children: 1_000,
    concurrency: 1_000,
    rounds: quick ? 2 : 5,
    durability: "fsync",
  });
  row(
    "sqlite fsync: a parent with 1,000 children (ctx.map, child: true, one step each)",
    children.childrenPerSecond,
    "children/s",
    `${fmt(children.floorRunsPerSecond)}/s`,
    "",
    `${fmt(children.childrenPerSecond / children.floorRunsPerSecond)}x floor (1,000 one-step runs started at once); parent start to result ${fmt(children.ms)} ms`,
  );
  const held = await waitingChildrenMemory(file("held"), { children: 1_000 });
  row(
    "sqlite: heap held per child by a parent waiting on 1,000 waiting children",
    held.heapBytesPerChild,
    "bytes",
    `${fmt(held.floorHeapBytesPerRun)} B`,
    "≈ 0",
    `floor: per run waiting with no parent; heap ${fmt(held.heapAfterMiB)} MiB after`,
  );
  results.sqlite.composition = { resume, loopTurnsMs: turnsMs, children, held };
}

function row(metric, value, unit, floor, target, note = "") {
  rows.push({ metric, value, unit, floor, target, note });
}

const fmt = (n) =>
  typeof n === "number" ? (n >= 100 ? n.toFixed(0) : n.toFixed(2)) : String(n ?? "");

if (only === null || only === "sqlite") {
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
      durability === "fsync" ? "≤ 1.1x floor" : "≤ 2x floor",
      `${fmt(seq.marginalRatio)}x floor`,
    );
    row(
      `sqlite ${durability}: 10-step run incl. start and end, /10`,
      seq.perStepUs,
      "µs",
      `${fmt(floor)} µs`,
      durability === "fsync" ? "≤ 1.25x floor" : "",
      `${fmt(seq.perStepRatio)}x floor (11 commits per 10 steps)`,
    );
    row(
      `sqlite ${durability}: 1,000 runs x 10 steps at once (median)`,
      tput.stepsPerSecond,
      "steps/s",
      "",
      durability === "fsync" ? "≥ 50,000" : "",
      `${fmt(tput.seconds * 1000)} ms; best ${fmt(tput.bestStepsPerSecond)}/s; cold ${fmt(tput.coldStepsPerSecond)}/s`,
    );
  }
  // The shapes users have: random caller-given ids, runs started while others run, a store
  // in use for a while; beside group-committed single-row inserts on a file of their own.
  {
    const runs = 1000;
    const floor = groupFloor(file("group-floor"), "fsync", runs * 10, runs);
    const random = await randomIds(file("random"), "fsync", runs, 3, quick ? 3 : 7);
    const during = await startedWhileRunning(file("during"), "fsync", 64, quick ? 1_000 : 3_000);
    const used = await usedStore(
      file("used"),
      "fsync",
      quick ? 5_000 : 20_000,
      runs,
      quick ? 3 : 5,
    );
    results.sqlite.shapes = { floorRowsPerSecond: floor, random, during, used };
    const vs = (v) => `${fmt(v / floor)}x floor`;
    row(
      `sqlite fsync: floor, ${runs * 10} single-row inserts committed ${runs} at a time`,
      floor,
      "rows/s",
      "",
      "",
    );
    row(
      `sqlite fsync: ${runs} runs x 10 steps at once, random ids, first round on a new file`,
      random.cold,
      "steps/s",
      `${fmt(floor)}/s`,
      "≥ 60,000",
      vs(random.cold),
    );
    row(
      `sqlite fsync: the same after warm-up (median)`,
      random.stepsPerSecond,
      "steps/s",
      `${fmt(floor)}/s`,
      "≥ 80,000",
      `${vs(random.stepsPerSecond)}; best ${fmt(random.best)}/s`,
    );
    row(
      `sqlite fsync: runs started while others run (${during.callers} callers, random ids)`,
      during.stepsPerSecond,
      "steps/s",
      `${fmt(floor)}/s`,
      "",
      `${vs(during.stepsPerSecond)}; ${during.runs} runs`,
    );
    row(
      `sqlite fsync: ${runs} runs x 10 steps at once on a store holding ${used.prefill} finished runs`,
      used.stepsPerSecond,
      "steps/s",
      `${fmt(floor)}/s`,
      "",
      vs(used.stepsPerSecond),
    );
  }
  const sizes = { blocks: quick ? 9 : 31, runsPerBlock: quick ? 3 : 5 };
  // Each feature on against off, per step: [result key, what is measured, its engine options (made
  // just before it is measured), note].
  const features = [
    [
      "codec",
      "the codec (AES-256-GCM) on, beside off",
      () => ({ codec: benchCodec() }),
      "; 10 steps of 1 KiB results",
    ],
    ["hashChain", "the hash chain on, beside off", () => ({ hashChain: true }), ""],
    [
      "telemetry",
      "an OpenTelemetry SDK registered, beside none",
      () => ({ telemetry: benchTelemetry() }),
      "; spans batched, metrics recorded",
    ],
  ];
  for (const [key, what, options, note] of features) {
    const r = await featureRatio(options(), sizes);
    results.sqlite[key] = r;
    row(
      `sqlite fsync: per step with ${what}`,
      r.ratio,
      "x",
      `${fmt(r.offStepUs)} µs`,
      "< 1.1x",
      `${fmt(r.onStepUs)} µs per step on; CPU +${fmt(r.cpuAddedUs)} µs of ${fmt(r.offCpuUs)} µs per step${note}`,
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

  const fsyncStore = (name) => () => sqliteStore(file(name), { durability: "fsync" });
  const inMemory = await eventLatency(fsyncStore("inmem"), false, quick ? 10 : 40);
  const evictedLatency = await eventLatency(fsyncStore("evicted"), true, quick ? 10 : 40);
  const rate = await eventRate(fsyncStore("rate"), quick ? 200 : 1000, 8);
  const alone = await eventSendRate(fsyncStore("send"), quick ? 200 : 1000);
  results.sqlite.events = { inMemory, evicted: evictedLatency, rate, alone };
  row(
    "sqlite fsync: sendEvent to next step running, run in memory (median)",
    inMemory.medianMs,
    "ms",
    "",
    "< 5 ms",
    `p90 ${fmt(inMemory.p90Ms)} ms`,
  );
  row(
    "sqlite fsync: sendEvent to next step running, run evicted (median)",
    evictedLatency.medianMs,
    "ms",
    "",
    "< 20 ms",
    `p90 ${fmt(evictedLatency.p90Ms)} ms`,
  );
  const fsyncFloor = results.sqlite.fsync.sequential.floorCommitUs;
  row(
    `sqlite fsync: events delivered to ${rate.runs} waiting runs, ${rate.senders} senders`,
    rate.eventsPerSecond,
    "events/s",
    `${fmt(fsyncFloor)} µs`,
    "≥ 20,000",
    `${fmt((rate.eventsPerSecond * fsyncFloor) / 1e6)} events per floor commit's time; runs resumed to their end at ${fmt(rate.resumedPerSecond)}/s`,
  );
  row(
    "sqlite fsync: events no run waits for, one sender",
    alone.eventsPerSecond,
    "events/s",
    "",
    "",
    `${alone.events} events`,
  );
  const many = await manyWaiting(quick ? 10_000 : 100_000);
  results.sqlite.manyWaiting = many;
  row(
    `sqlite: heap held per run waiting for an event (${many.n} runs)`,
    many.heapBytesPerRun,
    "bytes",
    "",
    "flat",
    `heap ${fmt(many.heapAfterMiB)} MiB after`,
  );
  row(
    `sqlite: store size per run waiting for an event (${many.n} runs)`,
    many.storeBytesPerRun,
    "bytes",
    "",
    "",
    `store ${fmt(many.storeMiB)} MiB; started in ${fmt(many.seconds)} s`,
  );
  await composition();
}
if (only === null || only === "postgres") {
  results.postgres = await benchPostgres({ quick, row, fmt });
}
if (only === null || only === "api") {
  const api = await benchApi(file("api"), { connections: 16, seconds: quick ? 2 : 4 });
  results.api = api;
  const pair = (what, one, many) => {
    row(
      `api: ${what} over HTTP, 1 connection (median)`,
      one.http.p50,
      "ms",
      `${fmt(one.local.p50)} ms`,
      "+ < 1 ms",
      `+${fmt(one.http.p50 - one.local.p50)} ms over the same call in-process; ${one.http.errors} errors`,
    );
    row(
      `api: ${what} over HTTP, 1 connection (p99)`,
      one.http.p99,
      "ms",
      `${fmt(one.local.p99)} ms`,
      "+ < 3 ms",
      `+${fmt(one.http.p99 - one.local.p99)} ms over the same call in-process`,
    );
    row(
      `api: ${what} over HTTP, ${api.connections} connections`,
      many.http.perSecond,
      "req/s",
      `${fmt(many.local.perSecond)}/s`,
      what === "start a run" ? "≥ 2,000" : "",
      `floor: the same call in-process, same concurrency; median ${fmt(many.http.p50)} ms, p99 ${fmt(many.http.p99)} ms; ${many.http.errors} errors`,
    );
  };
  pair("start a run", api.startOne, api.startMany);
  pair("read a run", api.readOne, api.readMany);
}

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
