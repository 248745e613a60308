// The chaos harness: starts a mix of runs on a real store, SIGKILLs its worker processes at
// seeded random instants while they work (and restarts them), injects store faults, sends
// the events, signals and decisions the runs wait for, lets retention run, then checks the
// invariants (see check.ts). Every random choice of the harness comes from the seed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createEngine, type Engine } from "endure";
import { rng } from "./faulty-store.mjs";
import { checkInvariants, type PlannedRun, type RunSnapshot } from "./check.js";
import { WorkerPool } from "./pool.js";
import { openTarget, type ChaosTarget } from "./targets.js";
import { chaosWorkflows, expectedOutput, KINDS, SIDE_TABLE_SQL, workflowOf } from "./workflows.mjs";

/** Options of a chaos run. */
export interface ChaosOptions {
  readonly store: "sqlite" | "postgres";
  readonly kills: number;
  readonly workers: number;
  readonly seed: number;
  /** Runs to start, spread over the kills. Default: half the kills, at least 16. */
  readonly runs?: number;
  /** Probability that one store operation of a worker fails. Default 0.01. */
  readonly faultRate?: number;
  /** Make the workers' store lie (see faulty-store.mjs): the harness must catch it. */
  readonly broken?: "drop-commit" | "replay-step";
  /** Random delay before each kill (after the worker is ready), in ms. Default 0 to 600. */
  readonly killDelayMs?: readonly [number, number];
  /** How long runs may take to end after the last kill, in ms. Default 120 s. */
  readonly drainMs?: number;
  /** PostgreSQL: where to create the run's database (default DATABASE_URL or a throwaway server). */
  readonly databaseUrl?: string;
  /** PostgreSQL: cut and stall the workers' connections through a proxy. Default true. */
  readonly connectionFaults?: boolean;
  readonly log?: (line: string) => void;
}

/** What a chaos run did and found. */
export interface ChaosReport {
  readonly store: string;
  readonly seed: number;
  readonly kills: number;
  readonly faults: number;
  readonly connectionFaults: number;
  /** Worker starts refused because a connection cut reached them as they opened the store. */
  readonly refusedStarts: number;
  readonly runs: number;
  readonly steps: number;
  readonly events: number;
  readonly seconds: number;
  readonly violations: readonly string[];
}

/** How often finished runs are read back (before retention deletes them), in ms. */
const SNAPSHOT_INTERVAL_MS = 300;
/** Retention of finished runs and spent events in the workers: short, so it runs mid-storm. */
const CHAOS_RETENTION = process.env.CHAOS_RETENTION ?? "20s";
/** Share of kills that may land before the worker is ready. */
const EARLY_KILL_SHARE = 0.15;
/** A worker's life between kills, roughly (start, recovery, work), for pacing run starts, in ms. */
const KILL_PERIOD_MS_GUESS = 1_000;
/** How often the run feeder checks whether the kills have caught up with it, in ms. */
const PACE_POLL_MS = 20;
/** Longest a harness message (event, signal, decision) is retried on store errors. */
const SEND_ATTEMPTS_MAX = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the chaos harness once and reports what it found. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "endure-chaos-"));
  const say = options.log ?? (() => {});
  const target = await openTarget(options.store, dir, options);
  try {
    return await storm(options, dir, target, say, began);
  } finally {
    await target.close();
    if (process.env.CHAOS_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
}

async function storm(
  options: ChaosOptions,
  dir: string,
  target: ChaosTarget,
  say: (line: string) => void,
  began: number,
): Promise<ChaosReport> {
  const random = rng(options.seed);
  const logPath = join(dir, "executions.log");
  const sidePath = join(dir, "side.db");
  const side = new Database(sidePath);
  side.pragma("journal_mode = WAL");
  side.exec(SIDE_TABLE_SQL);
  side.close();
  const client = await createEngine({
    store: target.clientStore(),
    workflows: chaosWorkflows({ logPath, sidePath, worker: "harness" }),
    worker: false,
    logger: { warn: () => {} },
  });
  await target.prepare();
  const warnings: string[] = [];
  const pool = new WorkerPool(
    {
      store: options.store,
      target: target.workerTarget,
      log: logPath,
      side: sidePath,
      faultRate: options.faultRate ?? 0.01,
      leaseMs: options.store === "sqlite" ? 5_000 : 3_000,
      retention: CHAOS_RETENTION,
      ...(options.broken === undefined ? {} : { broken: options.broken }),
    },
    options.workers,
    options.seed,
    (line) => warnings.push(line),
  );
  const feeder = new Feeder(client, random, options.seed);
  const watcher = new Watcher(client);
  let stopWatching = false;
  const watching = (async () => {
    while (!stopWatching) {
      await watcher.pass(feeder.planned);
      await sleep(SNAPSHOT_INTERVAL_MS);
    }
  })();
  pool.startAll();
  // A deployment has workers before it has traffic: triggers start from the first worker's start.
  await Promise.all(Array.from({ length: pool.size }, (_, i) => pool.ready(i)));
  const runsTotal = options.runs ?? Math.max(16, Math.ceil(options.kills / 2));
  let started = 0;
  let kills = 0;
  const feeding = (async () => {
    // Runs start at a steady pace over the expected length of the storm, and never ahead of
    // the kills: every run starts while workers are still being killed.
    const gapMs = (options.kills * KILL_PERIOD_MS_GUESS) / pool.size / runsTotal;
    while (started < runsTotal) {
      await feeder.startOne(`c${options.seed}-${started++}`);
      await sleep(random() * 2 * gapMs);
      while (kills < options.kills && started / runsTotal > kills / options.kills)
        await sleep(PACE_POLL_MS);
    }
  })();
  const [lo, hi] = options.killDelayMs ?? [0, 600];
  await Promise.all(
    Array.from({ length: pool.size }, async (_, slot) => {
      const chance = rng(options.seed * 31 + slot);
      while (kills < options.kills) {
        kills++;
        // Mostly while the worker works; sometimes while it is still opening and recovering.
        if (chance() >= EARLY_KILL_SHARE) await pool.ready(slot);
        await sleep(lo + chance() * (hi - lo));
        await pool.kill(slot);
        if (kills % 100 === 0) say(`${kills} kills, ${watcher.finished} runs ended`);
      }
    }),
  );
  await feeding;
  say(
    `storm over after ${Math.round((Date.now() - began) / 1000)} s: ${watcher.finished} of ${feeder.planned.length} runs ended`,
  );
  const deadline = Date.now() + (options.drainMs ?? 120_000);
  while (watcher.finished < feeder.planned.length && Date.now() < deadline) await sleep(200);
  say(`drained after ${Math.round((Date.now() - began) / 1000)} s`);
  stopWatching = true;
  await watching;
  await feeder.stop();
  await pool.stopAll();
  await watcher.pass(feeder.planned);
  const evidence = {
    planned: feeder.planned,
    snapshots: watcher.snapshots,
    unfinished: watcher.lastSeen,
    logLines: existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n").filter(Boolean) : [],
    effects: readEffects(sidePath),
    txRows: await target.txRows(),
  };
  await client.close();
  const violations = [
    ...checkInvariants(evidence),
    ...pool.counts.selfExits.map((s) => `worker exited by itself: ${s}`),
    ...feeder.errors,
  ];
  if (violations.length > 0) for (const w of warnings.slice(-20)) say(`warning ${w}`);
  if (process.env.CHAOS_KEEP !== undefined)
    writeFileSync(join(dir, "warnings.log"), warnings.join("\n"));
  let steps = 0;
  for (const s of watcher.snapshots.values())
    steps += s.journal.filter((e) => e.type === "step_succeeded").length;
  return {
    store: options.store,
    seed: options.seed,
    kills: pool.counts.kills,
    faults: pool.counts.faults + pool.counts.lies,
    connectionFaults: target.connectionFaults(),
    refusedStarts: pool.counts.refusedStarts,
    runs: feeder.planned.length,
    steps,
    events: feeder.eventsAccepted,
    seconds: Math.round((Date.now() - began) / 100) / 10,
    violations,
  };
}

function readEffects(path: string): Map<string, string> {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare("SELECT key, run_id FROM effects").all() as Array<{
    key: string;
    run_id: string;
  }>;
  db.close();
  return new Map(rows.map((r) => [r.key, r.run_id]));
}

/** Starts runs and sends what they wait for: events, signals, approval decisions. */
class Feeder {
  readonly planned: PlannedRun[] = [];
  readonly errors: string[] = [];
  eventsAccepted = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly approvals = new Map<string, boolean>();
  private stopped = false;
  private readonly deciding: Promise<void>;

  constructor(
    private readonly engine: Engine,
    private readonly random: () => number,
    private readonly seed: number,
  ) {
    this.deciding = this.decideLoop();
  }

  async startOne(id: string): Promise<void> {
    const kinds = process.env.CHAOS_KINDS?.split(",") ?? KINDS;
    const kind = kinds[Math.floor(this.random() * kinds.length)] ?? "seq";
    const v = Math.floor(this.random() * 1_000);
    const input = {
      n: 2 + Math.floor(this.random() * 5),
      sleepMs: 50 + Math.floor(this.random() * 1_500),
      v,
      approve: this.random() < 0.7,
      eventId: `ev-${id}`,
    };
    const delayMs = Math.floor(this.random() * 1_500);
    if (kind === "triggered") {
      const eventId = `trig-${id}`;
      this.planned.push({
        id: `chaos.triggered:${eventId}`,
        kind,
        expected: expectedOutput(kind, input),
      });
      this.later(delayMs, () => this.event("chaos.trigger", eventId, { v }));
      return;
    }
    if (kind === "agent") {
      await this.retry(`start ${id}`, () =>
        this.engine.start(workflowOf(kind), { prompt: "note 7" }, { id }),
      );
    } else {
      await this.retry(`start ${id}`, () => this.engine.start(workflowOf(kind), input, { id }));
    }
    this.planned.push({ id, kind, expected: expectedOutput(kind, input) });
    if (kind === "evented")
      this.later(delayMs, () => this.event("chaos.ping", input.eventId, { run: id, v }));
    if (kind === "signalled")
      this.later(delayMs, () =>
        this.retry(`signal ${id}`, () => this.engine.signal(id, "go", { v })),
      );
    if (kind === "approved") this.approvals.set(id, input.approve);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.deciding;
    await Promise.all([...this.pending]);
  }

  /** Sends an event twice (the second must be a no-op): at-least-once delivery to the engine. */
  private async event(name: string, id: string, data: unknown): Promise<void> {
    const first = await this.retry(`event ${id}`, () => this.engine.sendEvent({ name, id, data }));
    const again = await this.retry(`event ${id} again`, () =>
      this.engine.sendEvent({ name, id, data }),
    );
    if (first !== null) this.eventsAccepted++;
    if (again?.created === true) this.errors.push(`event ${id} was created twice`);
  }

  private later(ms: number, fn: () => Promise<unknown>): void {
    const p: Promise<void> = sleep(ms)
      .then(fn)
      .then(() => void this.pending.delete(p));
    this.pending.add(p);
  }

  private async decideLoop(): Promise<void> {
    while (!this.stopped) {
      await sleep(250);
      if (this.approvals.size === 0) continue;
      const open = await this.engine.approvals({ limit: 500 }).catch(() => []);
      for (const a of open) {
        const approve = this.approvals.get(a.runId);
        if (approve === undefined) continue;
        const decision = { by: "chaos" };
        const decided = await (
          approve
            ? this.engine.approve(a.runId, a.name, decision)
            : this.engine.reject(a.runId, a.name, decision)
        ).then(
          () => true,
          (e: { code?: string }) => e.code === "approval_decided",
        );
        if (decided) this.approvals.delete(a.runId);
      }
    }
  }

  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    let last: unknown = null;
    for (let i = 0; i < SEND_ATTEMPTS_MAX; i++) {
      try {
        return await fn();
      } catch (e) {
        last = e;
        await sleep(50 + 10 * i);
      }
    }
    this.errors.push(`the harness could not ${what}: ${String(last)}`);
    return null;
  }
}

/** Reads finished runs back (run and journal) as soon as they end. */
class Watcher {
  readonly snapshots = new Map<string, RunSnapshot>();
  readonly lastSeen = new Map<string, string>();
  constructor(private readonly engine: Engine) {}

  get finished(): number {
    return this.snapshots.size;
  }

  async pass(planned: readonly PlannedRun[]): Promise<void> {
    for (const run of planned) {
      if (this.snapshots.has(run.id)) continue;
      try {
        const info = await this.engine.getRun(run.id);
        if (info === null) {
          if (this.lastSeen.has(run.id)) this.lastSeen.set(run.id, "vanished before it ended");
          continue;
        }
        if (["pending", "running", "waiting"].includes(info.status)) {
          this.lastSeen.set(run.id, `last seen ${info.status}`);
          continue;
        }
        const journal = await this.engine.journal(run.id);
        this.snapshots.set(run.id, { info, journal });
      } catch (e) {
        this.lastSeen.set(run.id, `unreadable: ${String(e)}`);
      }
    }
  }
}
