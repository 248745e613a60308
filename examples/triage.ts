// npx tsx examples/triage.ts: support triage that waits days for a specialist's note, shown on
// virtual time with endure/testing (the same engine, journal and waits as in production; only
// the clock is skipped). A ticket is classified and routed; the run then waits up to 5 days
// for the specialist's note (a signal), evicted from memory while it waits. One ticket gets
// its note on day 2; the other gets none and is escalated after 5 days.
import { setTimeout as sleep } from "node:timers/promises";
import { workflow, type RunHandle } from "endure";
import { createTestEngine, type TestEngine } from "endure/testing";

const DAY_MS = 86_400_000;

export const triage = workflow("triage", async (ctx, ticket: { id: string; text: string }) => {
  const route = await ctx.step("classify", () =>
    /refund|invoice|charge/i.test(ticket.text)
      ? { queue: "billing", specialist: "lee@example.com" }
      : { queue: "technical", specialist: "sam@example.com" },
  );
  await ctx.step("notify specialist", ({ idempotencyKey }) => ({
    to: route.specialist,
    key: idempotencyKey, // the paging service deduplicates by it
  }));
  const note = await ctx.waitForSignal<{ by: string; text: string }>("specialist note", {
    timeout: "5d",
  });
  if (note === null) {
    await ctx.step("escalate", () => `escalated ${ticket.id} to the ${route.queue} lead`);
    return { ticket: ticket.id, queue: route.queue, resolution: "escalated after 5 days" };
  }
  const reply = await ctx.step("reply to customer", () => `Re ${ticket.id}: ${note.data.text}`);
  return { ticket: ticket.id, queue: route.queue, resolution: reply, by: note.data.by };
});

/** Until the run's wait is journaled (in real time; the clock stands still), at most 10 s. */
async function untilWaiting(t: TestEngine, run: RunHandle<unknown>): Promise<void> {
  const waits = async () => (await t.journal(run.id)).some((e) => e.type === "wait_started");
  for (let i = 0; i < 1000 && !(await waits()); i++) await sleep(10);
}

export async function main(log: (line: string) => void = console.log): Promise<void> {
  const t = await createTestEngine({ workflows: [triage] });
  try {
    const start = t.clock.now();
    const day = () => ((t.clock.now() - start) / DAY_MS).toFixed(1);
    const answered = await t.start(triage, { id: "T-7", text: "I was charged twice" });
    const silent = await t.start(triage, { id: "T-8", text: "The export hangs" });
    await untilWaiting(t, answered);
    await untilWaiting(t, silent);
    await t.advance("2d");
    log(`day ${day()}: ${(await t.explain(answered.id)).sentence}`);
    await t.signal(answered.id, "specialist note", {
      by: "lee@example.com",
      text: "the second charge is refunded",
    });
    const first = await t.runToEnd(answered);
    log(`day ${day()}: ${JSON.stringify(first)}`);
    const second = await t.runToEnd(silent); // moves virtual time to the wait's timeout
    log(`day ${day()}: ${JSON.stringify(second)}`);
  } finally {
    await t.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
