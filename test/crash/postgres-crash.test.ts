// Proves scale-out safety on a real PostgreSQL database with real worker processes: four
// workers share hundreds of runs while they are SIGKILLed at random instants and restarted
// (with their old identity, reclaiming at once, or a new one, waiting out the lease), and
// every run completes exactly once, with one ledger row per run and no step body started
// again after its result was committed (counted in a log outside the processes). A worker
// killed and restarted under its old identity takes its run back at once, long before the
// lease; a worker frozen with SIGSTOP past its lease is taken over and, once resumed with
// SIGCONT, gets none of its commits into the journal. The runs are the shapes users start:
// random ids, half of them started while the others run, on a database already in use.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, tempDir } from "../helpers.js";
import { admin, freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode, type Child } from "../support/processes.js";

const WORKER = new URL("../fixtures/pg-worker.mjs", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client's view of the workers' workflow: only its name matters to start runs. */
const ledgered = workflow("ledgered", async () => 0);

interface Logged {
  kind: string;
  run: string;
  key: string;
  token: string | undefined;
  worker: string;
}

function readLog(path: string): Logged[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("start ") || l.startsWith("end "))
    .map((l) => {
      const [kind = "", run = "", key = "", a = "", b] = l.split(" ");
      return kind === "end"
        ? { kind, run, key, token: a, worker: b ?? "" }
        : { kind, run, key, token: undefined, worker: a };
    });
}

async function prepare(url: string): Promise<void> {
  await admin(async (c) => {
    await c.query("CREATE TABLE ledger (run_id text NOT NULL, amount integer NOT NULL)");
  }, url);
}

/**
 * Checks the journals against the log: each run completed once with the right total; each
 * committed step result came from exactly one logged execution; no execution of a step
 * started after the next step started (which it only does once the step is committed); one
 * ledger row per run; journal rows numbered without gaps.
 */
async function verify(url: string, logPath: string, runIds: string[], steps: number) {
  const { runs, journal, ledger } = await admin(async (c) => {
    const r = await c.query<{ id: string; status: string; output: string }>(
      "SELECT id, status, output FROM endure.runs WHERE id = ANY($1)",
      [runIds],
    );
    const j = await c.query<{
      run_id: string;
      seq: number;
      type: string;
      key: string | null;
      data: string | null;
    }>(
      "SELECT run_id, seq, type, key, data FROM endure.journal WHERE run_id = ANY($1) ORDER BY run_id, seq",
      [runIds],
    );
    const l = await c.query<{ run_id: string; n: string }>(
      "SELECT run_id, count(*) AS n FROM ledger GROUP BY run_id",
    );
    return { runs: r.rows, journal: j.rows, ledger: l.rows };
  }, url);
  const total = (steps * (steps + 1)) / 2;
  expect(runs).toHaveLength(runIds.length);
  for (const run of runs) {
    expect(run.status, run.id).toBe("completed");
    expect(JSON.parse(run.output), run.id).toBe(total);
  }
  const byRun = new Map<string, typeof journal>();
  for (const row of journal) byRun.set(row.run_id, [...(byRun.get(row.run_id) ?? []), row]);
  const log = readLog(logPath);
  const logByRun = new Map<string, Logged[]>();
  for (const line of log) logByRun.set(line.run, [...(logByRun.get(line.run) ?? []), line]);
  let repeatedBeforeCommit = 0;
  let restarted = 0;
  let recovered = 0;
  for (const id of runIds) {
    const rows = byRun.get(id) ?? [];
    expect(
      rows.map((r) => r.seq),
      `${id}: journal rows numbered 1..n`,
    ).toEqual(rows.map((_, i) => i + 1));
    expect(
      rows.filter((r) => r.type === "run_completed"),
      `${id}: completed once`,
    ).toHaveLength(1);
    recovered += rows.filter((r) => r.type === "run_recovered").length;
    const lines = logByRun.get(id) ?? [];
    for (let k = 1; k <= steps; k++) {
      const key = `work#${k}`;
      const committed = rows.filter((r) => r.type === "step_succeeded" && r.key === key);
      expect(committed, `${id} ${key}: one result`).toHaveLength(1);
      const token = (JSON.parse(committed[0]?.data ?? "{}") as { result: { token: string } }).result
        .token;
      const ends = lines.filter((l) => l.kind === "end" && l.key === key);
      expect(
        ends.filter((l) => l.token === token),
        `${id} ${key}: committed body logged once`,
      ).toHaveLength(1);
      const starts = lines.map((l, i) => [l, i] as const).filter(([l]) => l.kind === "start");
      const next = k < steps ? `work#${k + 1}` : "finish#1";
      const witness = starts.find(([l]) => l.key === next)?.[1];
      expect(witness, `${id}: ${next} started`).toBeDefined();
      const late = starts.filter(([l, i]) => l.key === key && i > (witness ?? 0));
      expect(late, `${id} ${key}: no execution started after it was committed`).toEqual([]);
      repeatedBeforeCommit += ends.length - 1;
      restarted += starts.filter(([l]) => l.key === key).length - 1;
    }
  }
  expect(ledger.map((r) => [r.run_id, Number(r.n)]).sort()).toEqual(
    runIds.map((id) => [id, 1]).sort(),
  );
  return { repeatedBeforeCommit, restarted, recovered };
}

async function completedCount(url: string, runIds: string[]): Promise<number> {
  return admin(async (c) => {
    const r = await c.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM endure.runs WHERE id = ANY($1) AND status = 'completed'",
      [runIds],
    );
    return r.rows[0]?.n ?? 0;
  }, url);
}

describe("many workers on PostgreSQL", () => {
  it("four workers killed at random instants and restarted complete every run exactly once", async () => {
    const url = await freshDatabase();
    const logPath = join(tempDir(), "effects.log");
    // A database in use for a while: finished runs of another workflow fill it first.
    const filler = workflow("filler", async (ctx) => ctx.step("one", () => 1));
    const before = await postgresEngine({ url, workflows: [filler] });
    const prefill = 1_000;
    await Promise.all(
      Array.from({ length: prefill }, async () => (await before.start(filler, undefined)).result()),
    );
    await before.close();
    const client = await postgresEngine({ url, workflows: [ledgered], worker: false });
    await prepare(url);
    const runCount = 300;
    const steps = 10;
    // Ids the callers chose (random UUIDs); half started now, the rest while the others run
    // and the workers are killed.
    const runIds = Array.from({ length: runCount }, () => randomUUID());
    const start = (ids: string[]) =>
      Promise.all(
        ids.map((id) => client.start(ledgered, { steps, minMs: 30, maxMs: 150 }, { id })),
      );
    const later = runIds.slice(runCount / 2);
    await start(runIds.slice(0, runCount / 2));
    const leaseMs = "2000";
    const slots: Child[] = [];
    let generation = 0;
    const launch = (slot: number, sameId: boolean): Child =>
      spawnNode(WORKER, [
        url,
        logPath,
        sameId ? `w${slot}` : `w${slot}-g${++generation}`,
        leaseMs,
        "20",
      ]);
    for (let s = 0; s < 4; s++) slots.push(launch(s, true));
    let kills = 0;
    let reclaims = 0;
    // Kill at random instants while most runs are still going (at least 8 kills, at most
    // 12 s of them); every other restart keeps the old identity.
    const killUntil = Date.now() + 12_000;
    while (
      Date.now() < killUntil &&
      (kills < 8 || (await completedCount(url, runIds)) < runCount * 0.9)
    ) {
      await sleep(150 + Math.random() * 350);
      await start(later.splice(0, 20));
      const slot = Math.floor(Math.random() * slots.length);
      const victim = slots[slot] as Child;
      victim.process.kill("SIGKILL");
      await victim.exited;
      kills++;
      await sleep(Math.random() * 300);
      const sameId = kills % 2 === 0;
      if (sameId) reclaims++;
      slots[slot] = launch(slot, sameId);
    }
    await start(later.splice(0));
    await eventually(
      async () => (await completedCount(url, runIds)) === runCount,
      120_000,
      "every run to complete",
    );
    // A worker restarted last may still be opening its engine: SIGTERM before its handler
    // exists would end it by the signal, which says nothing about a graceful stop.
    await Promise.all(slots.map((c) => c.waitFor(/^ready /, 60_000)));
    for (const child of slots) child.process.kill("SIGTERM");
    const codes = await Promise.all(slots.map((c) => c.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(kills).toBeGreaterThanOrEqual(8);
    const { recovered, restarted, repeatedBeforeCommit } = await verify(
      url,
      logPath,
      runIds,
      steps,
    );
    const fillers = await admin(async (c) => {
      const r = await c.query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM endure.runs WHERE workflow = 'filler' GROUP BY status",
      );
      return r.rows;
    }, url);
    expect(fillers).toEqual([{ status: "completed", n: prefill }]);
    expect(recovered, "some runs were taken over after a kill").toBeGreaterThan(0);
    expect(reclaims, "some workers came back under their old identity").toBeGreaterThan(0);
    expect(kills - reclaims, "some came back under a new one").toBeGreaterThan(0);
    // Kills land mid-body: some bodies must have started again (their result was never
    // committed), some even after their effect was done.
    expect(restarted).toBeGreaterThan(0);
    expect(repeatedBeforeCommit).toBeGreaterThan(0);
  });

  it("a worker restarted with its old identity takes its runs back at once, not after the lease", async () => {
    const url = await freshDatabase();
    const logPath = join(tempDir(), "effects.log");
    const client = await postgresEngine({ url, workflows: [ledgered], worker: false });
    await prepare(url);
    const first = spawnNode(WORKER, [url, logPath, "stable", "60000"]);
    await first.waitFor(/^ready/);
    await client.start(ledgered, { steps: 6, minMs: 150, maxMs: 200 }, { id: "mine" });
    await eventually(
      () => readLog(logPath).some((l) => l.kind === "start" && l.key === "work#2"),
      20_000,
      "the run to get going",
    );
    first.process.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();
    const second = spawnNode(WORKER, [url, logPath, "stable", "60000"]);
    await eventually(
      async () => (await completedCount(url, ["mine"])) === 1,
      30_000,
      "the restarted worker to finish the run",
    );
    // The lease (60 s) had not expired: the worker took its own run back as it started.
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    const recovered = await admin(async (c) => {
      const r = await c.query<{ data: string }>(
        "SELECT data FROM endure.journal WHERE run_id = 'mine' AND type = 'run_recovered'",
      );
      return r.rows.map((row) => JSON.parse(row.data) as { worker: string });
    }, url);
    expect(recovered).toEqual([expect.objectContaining({ worker: "stable" })]);
    await verify(url, logPath, ["mine"], 6);
    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("a worker stopped past its lease is taken over, and after SIGCONT none of its commits lands", async () => {
    const url = await freshDatabase();
    const logPath = join(tempDir(), "effects.log");
    const client = await postgresEngine({ url, workflows: [ledgered], worker: false });
    await prepare(url);
    const steps = 10;
    const a = spawnNode(WORKER, [url, logPath, "frozen", "1000"]);
    await a.waitFor(/^ready/);
    await client.start(ledgered, { steps, minMs: 250, maxMs: 300 }, { id: "victim" });
    // Freeze A in the middle of step 3's body: its effect and its commit are still to come.
    await eventually(
      () => readLog(logPath).some((l) => l.kind === "start" && l.key === "work#3"),
      20_000,
      "A to start step 3",
    );
    a.process.kill("SIGSTOP");
    const b = spawnNode(WORKER, [url, logPath, "taker", "1000"]);
    await eventually(
      () => readLog(logPath).some((l) => l.kind === "start" && l.worker === "taker"),
      20_000,
      "B to take the run over",
    );
    await eventually(
      async () => (await completedCount(url, ["victim"])) === 1,
      30_000,
      "B to complete the run",
    );
    const before = readLog(logPath).length;
    a.process.kill("SIGCONT");
    // A wakes up: its body of step 3 finishes and its commit is refused; it learns it lost.
    await a.waitFor(/lost its lease|was taken over/, 15_000);
    const after = readLog(logPath);
    expect(
      after.slice(before).some((l) => l.kind === "end" && l.worker === "frozen"),
      "A's frozen body finished after SIGCONT",
    ).toBe(true);
    const frozenTokens = new Set(
      after.filter((l) => l.kind === "end" && l.worker === "frozen").map((l) => l.token),
    );
    const journal = await admin(async (c) => {
      const r = await c.query<{
        seq: number;
        type: string;
        key: string | null;
        data: string | null;
      }>("SELECT seq, type, key, data FROM endure.journal WHERE run_id = 'victim' ORDER BY seq");
      return r.rows;
    }, url);
    const takeover = journal.findIndex((r) => r.type === "run_recovered");
    expect(takeover).toBeGreaterThan(0);
    expect(JSON.parse(journal[takeover]?.data ?? "{}")).toMatchObject({ worker: "taker" });
    const results = journal.filter(
      (r) => r.type === "step_succeeded" && r.key?.startsWith("work#"),
    );
    expect(results).toHaveLength(steps);
    for (const r of journal.slice(takeover)) {
      const result =
        r.data === null
          ? null
          : (JSON.parse(r.data) as { result?: { worker?: string; token?: string } });
      expect(result?.result?.worker, `${r.key} after the takeover`).not.toBe("frozen");
    }
    const frozenCommitted = results.filter((r) =>
      frozenTokens.has((JSON.parse(r.data ?? "{}") as { result: { token: string } }).result.token),
    );
    expect(frozenCommitted.map((r) => r.key)).toEqual(["work#1", "work#2"]);
    await verify(url, logPath, ["victim"], steps);
    b.process.kill("SIGTERM");
    a.process.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(await a.exited).toBe(0);
  });
});
