// A worker process for the PostgreSQL benchmarks: executes the benchmark workflows on a
// store URL until SIGTERM (graceful) or SIGKILL. Prints "ready" once claiming.
//
//   node bench/pg-worker.mjs <url> <workerId> <leaseMs> [inMemoryWaitMs]
import { createEngine, workflow } from "endure";
import { postgresStore } from "endure/postgres";

const [url, workerId, leaseMs, inMemoryWait] = process.argv.slice(2);

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

/** Waits for one event meant for it, then takes one step (as in bench/events.js). */
const rateWaiter = workflow("rate-waiter", async (ctx) => {
  const event = await ctx.waitForEvent("go", {
    event: "rate.go",
    match: { "data.run": ctx.runId },
    timeout: "1h",
  });
  return ctx.step("after", () => event?.data.run === ctx.runId);
});

/** A trivial child run: one step (as in bench/composition.js). */
const oneStep = workflow("one-step", async (ctx, input) => ctx.step("step", () => input));

/** A parent: one child run per item, `concurrency` at once (as in bench/composition.js). */
const fanOut = workflow("fan-out", async (ctx, input) => {
  const items = Array.from({ length: input.children }, (_, i) => i);
  const results = await ctx.map("c", items, oneStep, {
    child: true,
    concurrency: input.concurrency,
  });
  return results.reduce((a, b) => a + b, 0);
});

const engine = await createEngine({
  store: postgresStore(url),
  workflows: [tenSteps, slowSteps, rateWaiter, oneStep, fanOut],
  worker: {
    workerId,
    lease: Number(leaseMs),
    concurrency: 2_000,
    ...(inMemoryWait === undefined ? {} : { inMemoryWait: Number(inMemoryWait) }),
  },
  gcSchedule: null,
  logger: { warn: (m) => process.stderr.write(`${workerId}: ${m}\n`) },
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void engine.close().then(() => process.exit(0));
});
