// The PostgreSQL part of `npm run bench`, on a throwaway server with PostgreSQL's durable
// defaults (fsync and synchronous commit on): per-step overhead beside the floor measured
// in the same run, throughput of 1,000 runs x 10 steps with 1, 2 and 4 worker processes,
// and recovery time from a worker's death to its runs resuming in another worker.
import { spawn } from "node:child_process";
import pg from "pg";
import { createEngine, workflow } from "endure";
import { postgresStore } from "endure/postgres";
import { startPostgres } from "../test/support/postgres-server.mjs";
import { childrenFigures, fanOut, oneStep } from "./composition.js";
import { eventLatency, eventRate, eventSendRate } from "./events.js";
import { median, noSteps, sequentialSteps, tenSteps } from "./sequential.js";

const WORKER = new URL("./pg-worker.mjs", import.meta.url).pathname;
const silent = { warn: () => {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const slowSteps = workflow("slow-steps", async () => "done");
/** The same name as in bench/pg-worker.mjs, which holds its body; here only to start runs. */
const rateWaiter = workflow("rate-waiter", async () => true);

async function freshDatabase(server, name) {
  const admin = new pg.Client(server.url);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The floor: one single-row INSERT committed per round trip, on one connection. */
async function openFloor(url) {
  const client = new pg.Client(url);
  await client.connect();
  await client.query(
    "CREATE TABLE floor (id bigserial PRIMARY KEY, run_id text NOT NULL, data text)",
  );
  return {
    async commitUs(n) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        await client.query({
          name: "floor",
          text: "INSERT INTO floor (run_id, data) VALUES ($1, $2)",
          values: ["run", `{"attempt":1,"result":${i}}`],
        });
      }
      return Number(process.hrtime.bigint() - t0) / 1e3 / n;
    },
    close: () => client.end(),
  };
}

/** Per-step overhead beside the floor, on one engine and one floor connection. */
async function sequential(url, blocks, runsPerBlock) {
  const floor = await openFloor(url);
  const engine = await createEngine({
    store: postgresStore(url),
    workflows: [tenSteps, noSteps],
    logger: silent,
  });
  const result = await sequentialSteps(engine, floor, blocks, runsPerBlock);
  await engine.close();
  await floor.close();
  return result;
}

function startWorker(url, id, leaseMs, inMemoryWaitMs) {
  const args = [WORKER, url, id, String(leaseMs)];
  if (inMemoryWaitMs !== undefined) args.push(String(inMemoryWaitMs));
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => d.toString().includes("ready") && resolve());
    child.on("exit", (code) => reject(new Error(`worker ${id} exited with ${code}`)));
  });
  const exited = new Promise((r) => child.on("exit", r));
  return { child, ready, exited, id };
}

async function stopWorkers(workers) {
  for (const w of workers) w.child.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
}

async function count(client, sql, values = []) {
  return (await client.query(sql, values)).rows[0].n;
}

/** 1,000 runs of 10 steps started at once by a client, executed by `n` worker processes. */
async function throughput(server, n, rounds) {
  const url = await freshDatabase(server, `tput_${n}`);
  const client = await createEngine({
    store: postgresStore(url),
    workflows: [tenSteps],
    worker: false,
    logger: silent,
  });
  const workers = Array.from({ length: n }, (_, i) => startWorker(url, `tput-${n}-${i}`, 30_000));
  await Promise.all(workers.map((w) => w.ready));
  const admin = new pg.Client(url);
  await admin.connect();
  const runs = 1_000;
  const round = async (r) => {
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        client.start(tenSteps, undefined, { id: `r${r}-${i}` }),
      ),
    );
    for (;;) {
      const done = await count(
        admin,
        "SELECT count(*)::int AS n FROM endure.runs WHERE status = 'completed' AND id LIKE $1",
        [`r${r}-%`],
      );
      if (done === runs) break;
      await sleep(5);
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  await round("warm");
  const times = [];
  for (let r = 0; r < rounds; r++) times.push(await round(r));
  await stopWorkers(workers);
  await admin.end();
  await client.close();
  const seconds = median(times);
  return {
    workers: n,
    runs,
    steps: runs * 10,
    rounds,
    seconds,
    stepsPerSecond: (runs * 10) / seconds,
    bestStepsPerSecond: (runs * 10) / Math.min(...times),
  };
}

/**
 * A parent fanning out to `children` one-step child runs (`ctx.map` with `child: true`, all at
 * once), started by a client and executed by `n` worker processes: from its start to its
 * result. The floor: as many one-step runs started at once by the client, on the same
 * workers, to the last one completed. Median of `rounds` rounds of each, after one of each.
 */
async function childrenWorkers(server, n, children, rounds) {
  const url = await freshDatabase(server, `children_${n}`);
  const client = await createEngine({
    store: postgresStore(url),
    workflows: [fanOut, oneStep],
    worker: false,
    logger: silent,
  });
  const workers = Array.from({ length: n }, (_, i) => startWorker(url, `ch-${n}-${i}`, 30_000));
  await Promise.all(workers.map((w) => w.ready));
  const admin = new pg.Client(url);
  await admin.connect();
  const parent = async (r) => {
    const t0 = performance.now();
    await client.start(fanOut, { children, concurrency: children }, { id: `p${r}` });
    for (;;) {
      const { rows } = await admin.query("SELECT status, output FROM endure.runs WHERE id = $1", [
        `p${r}`,
      ]);
      if (rows[0]?.status === "completed") {
        if (rows[0].output !== String((children * (children - 1)) / 2)) {
          throw new Error(`fan-out returned ${rows[0].output}`);
        }
        break;
      }
      if (["failed", "cancelled", "timed_out", "paused"].includes(rows[0]?.status)) {
        throw new Error(`fan-out ended ${rows[0].status}`);
      }
      await sleep(5);
    }
    return performance.now() - t0;
  };
  const floor = async (r) => {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: children }, (_, i) => client.start(oneStep, i, { id: `f${r}-${i}` })),
    );
    for (;;) {
      const done = await count(
        admin,
        "SELECT count(*)::int AS n FROM endure.runs WHERE status = 'completed' AND id LIKE $1",
        [`f${r}-%`],
      );
      if (done === children) break;
      await sleep(5);
    }
    return performance.now() - t0;
  };
  await parent("warm");
  await floor("warm");
  const parentMs = [];
  const floorMs = [];
  for (let r = 0; r < rounds; r++) {
    parentMs.push(await parent(r));
    floorMs.push(await floor(r));
  }
  await stopWorkers(workers);
  await admin.end();
  await client.close();
  return { workers: n, rounds, ...childrenFigures(children, parentMs, floorMs) };
}

/**
 * Two workers share slow runs; one is killed with SIGKILL. Measures from the kill to the
 * moment each of its runs is resumed by the other (its `run_recovered` entry committed).
 */
async function recovery(server, leaseMs) {
  const url = await freshDatabase(server, "recovery");
  const client = await createEngine({
    store: postgresStore(url),
    workflows: [slowSteps],
    worker: false,
    logger: silent,
  });
  const victim = startWorker(url, "victim", leaseMs);
  await victim.ready;
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => client.start(slowSteps, undefined, { id: `s${i}` })),
  );
  const admin = new pg.Client(url);
  await admin.connect();
  for (;;) {
    const held = await count(
      admin,
      "SELECT count(*)::int AS n FROM endure.runs WHERE owner = 'victim'",
    );
    if (held === 50) break;
    await sleep(10);
  }
  const survivor = startWorker(url, "survivor", leaseMs);
  await survivor.ready;
  // Let the victim renew its leases once, as a live worker does, then kill it mid-run.
  await sleep(leaseMs / 3 + 200);
  const { rows } = await admin.query(
    "SELECT id FROM endure.runs WHERE owner = 'victim' AND status = 'running'",
  );
  const orphans = rows.map((r) => r.id);
  const killedAt = Date.now();
  victim.child.kill("SIGKILL");
  await victim.exited;
  const resumedAt = new Map();
  while (resumedAt.size < orphans.length && Date.now() - killedAt < leaseMs * 3 + 10_000) {
    const found = await admin.query(
      "SELECT DISTINCT run_id FROM endure.journal WHERE type = 'run_recovered' AND run_id = ANY($1)",
      [orphans],
    );
    for (const r of found.rows) if (!resumedAt.has(r.run_id)) resumedAt.set(r.run_id, Date.now());
    await sleep(10);
  }
  const delays = [...resumedAt.values()].map((t) => (t - killedAt) / 1000);
  await stopWorkers([survivor]);
  await admin.end();
  await client.close();
  return {
    leaseSeconds: leaseMs / 1000,
    orphans: orphans.length,
    resumed: resumedAt.size,
    firstSeconds: Math.min(...delays),
    lastSeconds: Math.max(...delays),
  };
}

/**
 * The floor events are measured against, in parallel: `senders` connections, each committing
 * single-row INSERTs one after another for `ms`; commits per second over all of them.
 */
async function parallelFloor(url, senders, ms) {
  const clients = await Promise.all(
    Array.from({ length: senders }, async () => {
      const c = new pg.Client(url);
      await c.connect();
      return c;
    }),
  );
  await clients[0].query(
    "CREATE TABLE IF NOT EXISTS floor8 (id bigserial PRIMARY KEY, run_id text NOT NULL, data text)",
  );
  let commits = 0;
  const until = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, s) => {
      while (performance.now() < until) {
        await c.query({
          name: "floor8",
          text: "INSERT INTO floor8 (run_id, data) VALUES ($1, $2)",
          values: [`run-${s}`, `{"attempt":1,"result":${commits}}`],
        });
        commits++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  return { senders, commitsPerSecond: commits / seconds };
}

/**
 * `runs` runs wait (evicted) for one event each, spread over `workers` worker processes; a
 * client with `senders` callers then sends the events, each its share one after another.
 * Measures events stored and delivered (the senders' calls resolved) and the runs they woke
 * reaching their end, beside the parallel floor measured on the same database just before.
 */
async function eventRateWorkers(server, { workers: n, senders, runs }) {
  const url = await freshDatabase(server, `events_w${n}`);
  const floor = await parallelFloor(url, senders, 2_000);
  const client = await createEngine({
    store: postgresStore(url),
    workflows: [rateWaiter],
    worker: false,
    logger: silent,
    gcSchedule: null,
  });
  const workers = Array.from({ length: n }, (_, i) => startWorker(url, `ev-${i}`, 30_000, 1));
  await Promise.all(workers.map((w) => w.ready));
  const admin = new pg.Client(url);
  await admin.connect();
  const ids = [];
  for (let done = 0; done < runs; done += 500) {
    const batch = Math.min(500, runs - done);
    const handles = await Promise.all(
      Array.from({ length: batch }, () => client.start(rateWaiter, undefined)),
    );
    ids.push(...handles.map((h) => h.id));
  }
  const waiting = () =>
    count(
      admin,
      `SELECT count(*)::int AS n FROM endure.waits WHERE status = 'open' AND kind = 'event'
         AND run_id IN (SELECT id FROM endure.runs WHERE status = 'waiting')`,
    );
  while ((await waiting()) < runs) await sleep(20);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let i = s; i < runs; i += senders) {
        await client.sendEvent({ name: "rate.go", data: { run: ids[i] } });
      }
    }),
  );
  const sentMs = performance.now() - t0;
  const ended = () =>
    count(admin, "SELECT count(*)::int AS n FROM endure.runs WHERE status = 'completed'");
  while ((await ended()) < runs) await sleep(5);
  const doneMs = performance.now() - t0;
  const wrong = await count(
    admin,
    "SELECT count(*)::int AS n FROM endure.runs WHERE status = 'completed' AND output <> 'true'",
  );
  await stopWorkers(workers);
  await admin.end();
  await client.close();
  if (wrong > 0) throw new Error(`${wrong} runs received another run's event`);
  return {
    workers: n,
    senders,
    runs,
    sentMs,
    doneMs,
    eventsPerSecond: (runs / sentMs) * 1000,
    resumedPerSecond: (runs / doneMs) * 1000,
    floorCommitsPerSecond: floor.commitsPerSecond,
  };
}

/** Event latency (in memory, evicted) and delivery rate, each on a database of its own. */
async function eventFigures(server, quick) {
  const store = async (name) => {
    const url = await freshDatabase(server, name);
    return () => postgresStore(url);
  };
  const n = quick ? 10 : 40;
  const inMemory = await eventLatency(await store("events_inmem"), false, n);
  const evicted = await eventLatency(await store("events_evicted"), true, n);
  const rate = await eventRate(await store("events_rate"), quick ? 200 : 1000, 8);
  const alone = await eventSendRate(await store("events_alone"), quick ? 200 : 1000);
  const workers = await eventRateWorkers(server, {
    workers: 4,
    senders: 8,
    runs: quick ? 1000 : 5000,
  });
  return { inMemory, evicted, rate, alone, workers };
}

export { sequential, throughput, recovery, freshDatabase, eventRateWorkers, childrenWorkers };

/** Runs the PostgreSQL benchmarks; `row` adds a line to the printed table. */
export async function benchPostgres({ quick, row, fmt }) {
  const server = await startPostgres({ durable: true });
  try {
    const url = await freshDatabase(server, "sequential");
    const seq = await sequential(url, quick ? 5 : 15, quick ? 10 : 20);
    const floor = seq.floorCommitUs;
    row("postgres: floor, one single-row INSERT commit", floor, "µs", "", "");
    row(
      "postgres: per-step overhead (10-step run minus empty run, /10)",
      seq.marginalStepUs,
      "µs",
      `${fmt(floor)} µs`,
      "≤ 1.15x floor",
      `${fmt(seq.marginalRatio)}x floor`,
    );
    row(
      "postgres: 10-step run incl. start and end, /10",
      seq.perStepUs,
      "µs",
      `${fmt(floor)} µs`,
      "",
      `${fmt(seq.perStepRatio)}x floor (11 commits per 10 steps)`,
    );
    const tput = [];
    for (const n of [1, 2, 4]) {
      const t = await throughput(server, n, quick ? 2 : 5);
      tput.push(t);
      row(
        `postgres: 1,000 runs x 10 steps, ${n} worker process${n === 1 ? "" : "es"} (median)`,
        t.stepsPerSecond,
        "steps/s",
        "",
        n === 4 ? "≥ 10,000" : "",
        `${fmt(t.seconds * 1000)} ms; best ${fmt(t.bestStepsPerSecond)}/s`,
      );
    }
    const events = await eventFigures(server, quick);
    row(
      "postgres: sendEvent to next step running, run in memory (median)",
      events.inMemory.medianMs,
      "ms",
      "",
      "",
      `p90 ${fmt(events.inMemory.p90Ms)} ms`,
    );
    row(
      "postgres: sendEvent to next step running, run evicted (median)",
      events.evicted.medianMs,
      "ms",
      "",
      "",
      `p90 ${fmt(events.evicted.p90Ms)} ms`,
    );
    row(
      `postgres: events delivered to ${events.rate.runs} waiting runs, ${events.rate.senders} senders`,
      events.rate.eventsPerSecond,
      "events/s",
      "",
      "",
      `runs resumed to their end at ${fmt(events.rate.resumedPerSecond)}/s`,
    );
    const w = events.workers;
    row(
      `postgres: events delivered, ${w.workers} worker processes, ${w.senders} senders, ${w.runs} waiting runs`,
      w.eventsPerSecond,
      "events/s",
      `${fmt(w.floorCommitsPerSecond)}/s`,
      "≥ 5,000",
      `${fmt(w.eventsPerSecond / w.floorCommitsPerSecond)}x floor (single-row commits/s on ${w.senders} connections); runs resumed to their end at ${fmt(w.resumedPerSecond)}/s`,
    );
    row(
      "postgres: events no run waits for, one sender",
      events.alone.eventsPerSecond,
      "events/s",
      "",
      "",
      `${events.alone.events} events`,
    );
    const children = await childrenWorkers(server, 4, 1_000, quick ? 1 : 3);
    row(
      `postgres: a parent with 1,000 children (ctx.map, child: true, one step each), ${children.workers} worker processes`,
      children.childrenPerSecond,
      "children/s",
      `${fmt(children.floorRunsPerSecond)}/s`,
      "",
      `${fmt(children.childrenPerSecond / children.floorRunsPerSecond)}x floor (1,000 one-step runs started at once by a client); parent start to result ${fmt(children.ms)} ms`,
    );
    const leaseMs = 5_000;
    const rec = await recovery(server, leaseMs);
    row(
      `postgres: worker killed, its runs resumed elsewhere (lease ${rec.leaseSeconds} s)`,
      rec.lastSeconds,
      "s",
      "",
      `≤ ${rec.leaseSeconds + 1} s`,
      `${rec.resumed}/${rec.orphans} runs; first after ${fmt(rec.firstSeconds)} s`,
    );
    return {
      server: server.source,
      sequential: seq,
      throughput: tput,
      events,
      children,
      recovery: rec,
    };
  } finally {
    await server.stop();
  }
}
