// npm run demo:memory: a support workflow that remembers what it learned about a customer in
// durable memory, across runs: the second ticket starts from the notes of the first. Many
// tickets of one customer may run at once; their updates of the customer's key never lose
// each other. An operator reads the key, its history and the namespace from outside.
import { mkdirSync } from "node:fs";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

/** What the support agent keeps about a customer. */
interface CustomerNotes {
  tickets: number;
  notes: string[];
}

export const support = workflow(
  "support-ticket",
  async (ctx, input: { customer: string; ticket: string; learned: string }) => {
    const memory = ctx.memory<CustomerNotes>("customer", input.customer);
    // What earlier tickets taught us: journaled, so a replay sees the same notes.
    const known = (await memory.get()) ?? { tickets: 0, notes: [] };
    const reply = await ctx.step("draft reply", () =>
      known.notes.length === 0
        ? `Hello! Thanks for ticket ${input.ticket}.`
        : `Hello again! Noted: ${known.notes.join("; ")}. Thanks for ticket ${input.ticket}.`,
    );
    // Read-modify-write under the key's lock: concurrent tickets each add their note.
    const after = await memory.update((n) => ({
      tickets: (n?.tickets ?? 0) + 1,
      notes: [...(n?.notes ?? []), input.learned],
    }));
    return { reply, tickets: after.tickets };
  },
);

/** Runs the example; returns the customer's notes at the end. */
export async function main(
  options: { path?: string; log?: (line: string) => void } = {},
): Promise<CustomerNotes | undefined> {
  const path = options.path ?? ".endure/memory.db";
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.path === undefined) mkdirSync(".endure", { recursive: true });
  const engine = await createEngine({
    store: sqliteStore(path),
    workflows: [support],
    // Customers' notes are forgotten a year after they were last written.
    memoryRetention: { customer: "365d" },
  });
  try {
    const first = await engine.start(support, {
      customer: "acme",
      ticket: "T-1",
      learned: "prefers e-mail",
    });
    log(`T-1: ${(await first.result()).reply}`);
    // Two tickets at once: both updates land.
    const [a, b] = await Promise.all([
      engine.start(support, { customer: "acme", ticket: "T-2", learned: "on the gold plan" }),
      engine.start(support, { customer: "acme", ticket: "T-3", learned: "invoices in EUR" }),
    ]);
    for (const run of [a, b]) log(`${run.id.slice(0, 8)}: ${(await run.result()).reply}`);
    // An operator corrects the notes from outside a run; the history says who changed what.
    const key = engine.memory<CustomerNotes>("customer", "acme");
    await key.update((n) => ({ tickets: n?.tickets ?? 0, notes: [...(n?.notes ?? []), "VIP"] }), {
      by: "maria@acme.io",
    });
    for (const change of await key.history())
      log(`version ${change.version} by ${change.runId ?? change.by}`);
    const { keys } = await engine.memory("customer").list();
    log(`customers remembered: ${keys.map((k) => k.key).join(", ")}`);
    return await key.get();
  } finally {
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const notes = await main();
  console.log(notes);
}
