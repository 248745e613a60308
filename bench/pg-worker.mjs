// A worker process for the PostgreSQL benchmarks: executes the benchmark workflows on a
// store URL until SIGTERM (graceful) or SIGKILL. Prints "ready" once claiming.
//
//   node bench/pg-worker.mjs <url> <workerId> <leaseMs>
import { createEngine, workflow } from "endure";
import { postgresStore } from "endure/postgres";

const [url, workerId, leaseMs] = process.argv.slice(2);

const tenSteps = workflow("ten-steps", async (ctx) => {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await ctx.step("step", () => i);
  return total;
});

/** Long enough to be caught mid-run by a kill: 200 steps of 50 ms. */
const slowSteps = workflow("slow-steps", async (ctx) => {
  for (let i = 0; i < 200; i++) {
    await ctx.step("tick", () => new Promise((r) => setTimeout(r, 50)));
  }
  return "done";
});

const engine = await createEngine({
  store: postgresStore(url),
  workflows: [tenSteps, slowSteps],
  worker: { workerId, lease: Number(leaseMs), concurrency: 2_000 },
  logger: { warn: (m) => process.stderr.write(`${workerId}: ${m}\n`) },
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void engine.close().then(() => process.exit(0));
});
