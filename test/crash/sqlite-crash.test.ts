// Proves durability against SIGKILL on real processes and a real SQLite file: children are
// killed mid-step (after a body's effect, before its commit), at step boundaries, inside a
// transactional step, and at random instants, then restarted on the same file. Every run
// completes with the right result; no step body runs again after its result was committed
// (counted in a log outside the process); the transactional ledger row exists exactly once.
// The same holds for the runs users start: random ids, runs started while others run, and a
// store that already holds many finished runs.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { sqliteEngine, tempDir } from "../helpers.js";

const CHILD = new URL("../fixtures/crash-child.mjs", import.meta.url).pathname;

interface ChildRun {
  killed: boolean;
  lines: string[];
}

/** Runs the child once; `kill(line, lines)` decides, line by line, to SIGKILL it. */
function runChild(
  args: string[],
  kill: (line: string, lines: string[]) => boolean,
  killAfterMs?: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let killed = false;
    let buffer = "";
    let stderr = "";
    const doKill = (): void => {
      if (killed) return;
      killed = true;
      child.kill("SIGKILL");
    };
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (!killed && kill(line, lines)) doKill();
        if (killAfterMs !== undefined && lines.length === 1) setTimeout(doKill, killAfterMs);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (!killed && code !== 0 && signal !== "SIGKILL")
        reject(new Error(`child exited with ${code ?? signal}: ${stderr}`));
      else resolve({ killed: killed || signal === "SIGKILL", lines });
    });
  });
}

/** Checks the log against the journal: a committed body never ran after its commit. */
function checkExactlyOnce(db: string, log: string) {
  const executions = new Map<string, string[]>();
  const text = existsSync(log) ? readFileSync(log, "utf8") : "";
  for (const line of text.trim().split("\n").filter(Boolean)) {
    const [run, key, token] = line.split(" ");
    const k = `${run} ${key}`;
    executions.set(k, [...(executions.get(k) ?? []), token ?? ""]);
  }
  const conn = new Database(db, { readonly: true });
  const committed = conn
    .prepare(
      "SELECT run_id, key, data FROM journal WHERE type = 'step_succeeded' AND key LIKE 'work#%'",
    )
    .all() as Array<{ run_id: string; key: string; data: string }>;
  let repeatedBeforeCommit = 0;
  for (const row of committed) {
    const token = (JSON.parse(row.data) as { result: { token: string } }).result.token;
    const runs = executions.get(`${row.run_id} ${row.key}`) ?? [];
    expect(
      runs.filter((t) => t === token),
      `${row.run_id} ${row.key}: committed body logged once`,
    ).toHaveLength(1);
    expect(runs.at(-1), `${row.run_id} ${row.key}: no execution after the committed one`).toBe(
      token,
    );
    repeatedBeforeCommit += runs.length - 1;
  }
  const ledger = conn
    .prepare("SELECT run_id, count(*) AS n FROM ledger GROUP BY run_id")
    .all() as Array<{ run_id: string; n: number }>;
  conn.close();
  return { committed: committed.length, repeatedBeforeCommit, ledger };
}

async function runToCompletion(
  args: string[],
  pickKill: (attempt: number) => {
    kill: (line: string, lines: string[]) => boolean;
    afterMs?: number;
  },
) {
  let kills = 0;
  for (let attempt = 0; attempt < 200; attempt++) {
    const plan = pickKill(attempt);
    const result = await runChild(args, plan.kill, plan.afterMs);
    if (!result.killed && result.lines.includes("exit")) return { kills, lines: result.lines };
    kills++;
  }
  throw new Error("the workflow never completed");
}

describe("crash recovery on SQLite (SIGKILL)", () => {
  it("survives kills after a body's effect, at step boundaries and inside a transactional step", async () => {
    const dir = tempDir();
    const db = join(dir, "crash.db");
    const log = join(dir, "effects.log");
    const runs = 3;
    const steps = 10;
    // Each restart kills at the next chosen point: after the Nth body ends (effect done, commit
    // not yet), when the Nth body starts (the step before it committed), or inside the ledger post.
    const points = [
      "end 2",
      "start 4",
      "posted",
      "end 7",
      "start 3",
      "end 1",
      "end 5",
      "posted",
      "start 2",
      "end 3",
    ];
    const landed: string[] = [];
    const { lines } = await runToCompletion(
      ["ledger", db, log, String(runs), String(steps)],
      (attempt) => {
        const point = points[attempt];
        if (point === undefined) return { kill: () => false };
        const [kind, nth] = point.split(" ");
        let seen = 0;
        return {
          kill: (line) => {
            if (!line.startsWith(kind ?? "")) return false;
            seen++;
            const now = nth === undefined || seen >= Number(nth);
            if (now) landed.push(kind ?? "");
            return now;
          },
        };
      },
    );
    expect(landed.filter((k) => k === "end").length).toBeGreaterThanOrEqual(2);
    expect(landed.filter((k) => k === "start").length).toBeGreaterThanOrEqual(2);
    expect(landed.filter((k) => k === "posted").length).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < runs; i++) expect(lines).toContain(`done ledger-${i} 55`);
    const check = checkExactlyOnce(db, log);
    expect(check.committed).toBe(runs * steps);
    expect(check.ledger).toEqual(
      Array.from({ length: runs }, (_, i) => ({ run_id: `ledger-${i}`, n: 1 })),
    );
    // Kills after a body's effect and before its commit must have forced some re-executions.
    expect(check.repeatedBeforeCommit).toBeGreaterThan(0);
  });

  it("survives SIGKILL at many random instants", async () => {
    const dir = tempDir();
    const db = join(dir, "random.db");
    const log = join(dir, "effects.log");
    const runs = 4;
    const steps = 10;
    const { kills, lines } = await runToCompletion(
      ["ledger", db, log, String(runs), String(steps)],
      (attempt) =>
        attempt < 25
          ? { kill: () => false, afterMs: Math.floor(Math.random() * 40) }
          : { kill: () => false },
    );
    for (let i = 0; i < runs; i++) expect(lines).toContain(`done ledger-${i} 55`);
    const check = checkExactlyOnce(db, log);
    expect(check.committed).toBe(runs * steps);
    expect(check.ledger).toEqual(
      Array.from({ length: runs }, (_, i) => ({ run_id: `ledger-${i}`, n: 1 })),
    );
    expect(kills).toBeGreaterThan(0);
  });

  it("survives random kills with the runs users start: random ids, started while others run, on a used store", async () => {
    const dir = tempDir();
    const db = join(dir, "shapes.db");
    const log = join(dir, "effects.log");
    const idsFile = join(dir, "ids.json");
    // A store in use for a while: finished runs of another workflow fill it first.
    const filler = workflow("filler", async (ctx) => ctx.step("one", () => 1));
    const before = await sqliteEngine({ path: db, workflows: [filler] });
    const prefill = 2_000;
    for (let done = 0; done < prefill; done += 500)
      await Promise.all(
        Array.from({ length: 500 }, async () => (await before.start(filler, undefined)).result()),
      );
    await before.close();
    const ids = Array.from({ length: 60 }, () => randomUUID());
    writeFileSync(idsFile, JSON.stringify(ids));
    const steps = 10;
    const { kills, lines } = await runToCompletion(
      ["shapes", db, log, String(ids.length), String(steps), idsFile],
      (attempt) =>
        attempt < 12
          ? { kill: () => false, afterMs: 5 + Math.floor(Math.random() * 30) }
          : { kill: () => false },
    );
    expect(kills).toBeGreaterThan(0);
    for (const id of ids) expect(lines).toContain(`done ${id} 55`);
    const check = checkExactlyOnce(db, log);
    console.log(
      `shapes: ${kills} kills, ${check.repeatedBeforeCommit} bodies run again before their commit`,
    );
    expect(check.committed).toBe(ids.length * steps);
    expect(check.ledger.map((r) => r.n)).toEqual(ids.map(() => 1));
    expect(new Set(check.ledger.map((r) => r.run_id))).toEqual(new Set(ids));
    const conn = new Database(db, { readonly: true });
    const statuses = conn
      .prepare("SELECT workflow, status, count(*) AS n FROM runs GROUP BY workflow, status")
      .all();
    conn.close();
    expect(statuses).toEqual([
      { workflow: "filler", status: "completed", n: prefill },
      { workflow: "ledgered", status: "completed", n: ids.length },
    ]);
  });

  it("pauses a run that kills its process every time, after a bounded number of recoveries", async () => {
    const dir = tempDir();
    const db = join(dir, "poison.db");
    const log = join(dir, "effects.log");
    let last: ChildRun | null = null;
    for (let attempt = 0; attempt < 10; attempt++) {
      last = await runChild(["poison", db, log, "1"], () => false);
      if (!last.killed) break;
    }
    expect(last?.killed).toBe(false);
    expect(last?.lines.some((l) => l.startsWith("paused poison-0 crash_loop"))).toBe(true);
    // One crash on the first run, then one per recovery until the third recovery is refused.
    expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(3);
    const conn = new Database(db, { readonly: true });
    const paused = conn
      .prepare("SELECT data FROM journal WHERE run_id = 'poison-0' AND type = 'run_paused'")
      .get() as { data: string };
    conn.close();
    expect(JSON.parse(paused.data)).toMatchObject({ reason: "crash_loop" });
    expect(JSON.parse(paused.data).message).toContain("resume it with engine.resume(runId)");
  });

  it("does not run an atMostOnce step again after a crash interrupted it", async () => {
    const dir = tempDir();
    const db = join(dir, "once.db");
    const log = join(dir, "effects.log");
    const first = await runChild(["once", db, log, "1"], (line) => line.startsWith("charging"));
    expect(first.killed).toBe(true);
    const second = await runChild(["once", db, log, "1"], () => false);
    expect(second.lines).toContain(
      `done once-0 "StepInterruptedError: step 'charge#1' of run once-0 was interr"`,
    );
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["once-0 charge"]);
  });
});
