// npx tsx examples/two-process-approval.ts: an approval decided in another process. This
// script starts itself twice on one SQLite file: a worker process, whose engine executes the
// workflow and waits for the decision, and an approver process, whose engine has
// `worker: false`: it executes nothing, only reads the store and decides. Any process on
// the same store (a CLI, a web app, `endure server`) can be the approver.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

const STORE = ".endure/two-process.db";

export const expense = workflow("expense", async (ctx, input: { who: string; usd: number }) => {
  const decision = await ctx.approval("manager", {
    title: `Reimburse ${input.who} $${input.usd}?`,
    approvers: ["manager@example.com"],
    timeout: "7d",
  });
  if (!decision.approved) return { paid: false, by: decision.by };
  await ctx.step("pay", ({ idempotencyKey }) => ({ transfer: idempotencyKey }));
  return { paid: true, by: decision.by, pid: process.pid };
});

/** The worker process: starts the run, executes it, and prints its result. */
async function worker(): Promise<void> {
  const engine = await createEngine({ store: sqliteStore(STORE), workflows: [expense] });
  const run = await engine.start(expense, { who: "ana", usd: 120 }, { id: "expense-ana" });
  if (run.created) console.log(`worker ${process.pid}: run ${run.id} waits for the manager`);
  console.log(`worker ${process.pid}: result ${JSON.stringify(await run.result())}`);
  await engine.close();
}

/** The approver process: an engine that executes nothing, and decides. */
async function approver(): Promise<void> {
  const engine = await createEngine({
    store: sqliteStore(STORE),
    workflows: [expense],
    worker: false,
  });
  // The worker may not have reached the approval yet: look for it for up to 10 s.
  let [open] = await engine.approvals({ runId: "expense-ana" });
  for (let i = 0; open === undefined && i < 500; i++) {
    await sleep(20);
    [open] = await engine.approvals({ runId: "expense-ana" });
  }
  if (open === undefined) throw new Error("no open approval for expense-ana");
  console.log(`approver ${process.pid}: ${open.title}`);
  const outcome = await engine.approve(open.runId, open.name, { by: "manager@example.com" });
  console.log(`approver ${process.pid}: approved (${outcome}), executed nothing`);
  await engine.close();
}

/** Runs this file as `role`, printing its lines; resolves once `until` is printed or it exits. */
function child(role: string, log: (line: string) => void, until?: RegExp) {
  const self = fileURLToPath(import.meta.url);
  const p = spawn(process.execPath, [...process.execArgv, self, role], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => p.on("exit", resolve));
  const seen = new Promise<void>((resolve) => {
    createInterface({ input: p.stdout }).on("line", (line) => {
      log(line);
      if (until?.test(line) === true) resolve();
    });
    void exited.then(() => resolve());
  });
  return { seen, exited };
}

export async function main(log: (line: string) => void = console.log): Promise<void> {
  mkdirSync(".endure", { recursive: true });
  let decided = false; // on a second run of the example, the run is in the store, decided
  const w = child(
    "worker",
    (line) => {
      decided ||= line.includes("result");
      log(line);
    },
    /waits for the manager/,
  );
  await w.seen;
  if (!decided && (await child("approver", log).exited) !== 0)
    throw new Error("the approver failed");
  if ((await w.exited) !== 0) throw new Error("the worker failed");
}

const role = process.argv[2];
if (import.meta.url === `file://${process.argv[1]}`) {
  if (role === "worker") await worker();
  else if (role === "approver") await approver();
  else await main();
}
