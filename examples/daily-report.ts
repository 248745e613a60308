// npx tsx examples/daily-report.ts: a scheduled daily report, on virtual time (endure/testing)
// so that three days pass in a second. The workflow has a cron schedule; the engine starts one
// run per tick, with the tick in its input and in its run id (daily-report@<tick>), so several
// engines sharing a store start each tick once. On a real engine nothing changes but the clock.
import { workflow } from "endure";
import { createTestEngine } from "endure/testing";

/** Sales figures by day, as a warehouse query would return them. */
const SALES: Readonly<Record<string, number>> = {
  "2026-03-01": 1200,
  "2026-03-02": 900,
  "2026-03-03": 1500,
};

export const dailyReport = workflow(
  "daily-report",
  async (ctx, input: { scheduledAt: Date }) => {
    const yesterday = new Date(input.scheduledAt.getTime() - 86_400_000).toISOString().slice(0, 10);
    const total = await ctx.step("query sales", () => SALES[yesterday] ?? 0);
    return ctx.step("post report", ({ idempotencyKey }) => {
      // Post to your chat or mail API with idempotencyKey: a retry posts once.
      return { day: yesterday, total, key: idempotencyKey };
    });
  },
  { schedule: "0 8 * * *", timezone: "UTC", catchUp: "latest" },
);

export async function main(log: (line: string) => void = console.log): Promise<void> {
  const t = await createTestEngine({
    workflows: [dailyReport],
    startAt: Date.UTC(2026, 2, 2, 7, 59),
  });
  try {
    for (const step of ["1m", "1d", "1d"]) {
      await t.advance(step);
      const { runs } = await t.listRuns({ workflow: "daily-report" });
      // The reports wait for nothing: their results come without moving the clock.
      for (const run of runs) await t.handle(run.id).result();
    }
    const { runs } = await t.listRuns({ workflow: "daily-report", status: "completed" });
    for (const run of [...runs].reverse()) {
      const out = run.output as { day: string; total: number };
      log(`${run.id}: ${out.day} sales ${out.total}`);
    }
  } finally {
    await t.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
