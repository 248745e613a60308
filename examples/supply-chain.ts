// npm run demo:supply-chain: a delayed shipment coordinated with three parties at once. The
// workflow asks a vendor, a carrier and a warehouse for a new date in parallel, moves on as
// soon as two of the three answer or a deadline passes, and replans or escalates. The parties
// that did not answer in time are withdrawn: their waits are journaled as cancelled and a late
// answer reaches no one. Run it twice on the same file: the second run reads the journal.
import { mkdirSync } from "node:fs";
import { createEngine, workflow, type Duration, type ReceivedEvent } from "endure";
import { sqliteStore } from "endure/sqlite";

/** The three parties, and the event each answers with. */
export const PARTIES = ["vendor", "carrier", "warehouse"] as const;
export type Party = (typeof PARTIES)[number];

interface Answer {
  shipment: string;
  party: Party;
  newDate: string;
}

export const coordinate = workflow(
  "coordinate-delay",
  async (ctx, input: { shipment: string; deadline: Duration }) => {
    // Ask all three at once: each request is a step (an email, an API call), sent once.
    await ctx.all(
      PARTIES.map((party) =>
        ctx.sendEvent(`ask ${party}`, {
          name: "shipment.question",
          data: { shipment: input.shipment, party },
        }),
      ),
    );
    const answers = PARTIES.map((party) =>
      ctx.waitForEvent<Answer>(`${party} answer`, {
        event: `${party}.answered`,
        match: { "data.shipment": input.shipment },
      }),
    );
    // Two of the three, or the deadline: whichever comes first is journaled, and the rest
    // is withdrawn.
    const outcome = await ctx.race([ctx.some(2, answers), ctx.sleep("deadline", input.deadline)]);
    if (outcome === undefined) {
      return ctx.step("escalate", () => ({
        shipment: input.shipment,
        plan: "escalated to a person: fewer than two parties answered in time",
      }));
    }
    const dates = outcome.map(({ value }) => (value as ReceivedEvent<Answer>).data);
    return ctx.step("replan", () => ({
      shipment: input.shipment,
      plan: `new date ${dates.map((d) => d.newDate).sort()[dates.length - 1] ?? "?"}`,
      from: dates.map((d) => d.party),
    }));
  },
);

/** Runs the example: the parties in `answering` reply after `replyMs`; returns the result. */
export async function main(
  options: {
    path?: string;
    shipment?: string;
    answering?: readonly Party[];
    deadline?: Duration;
    replyMs?: number;
    log?: (line: string) => void;
  } = {},
): Promise<unknown> {
  const path = options.path ?? ".endure/supply-chain.db";
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.path === undefined) mkdirSync(".endure", { recursive: true });
  const shipment = options.shipment ?? "SHP-1042";
  const engine = await createEngine({ store: sqliteStore(path), workflows: [coordinate] });
  const run = await engine.start(
    coordinate,
    { shipment, deadline: options.deadline ?? "2s" },
    { id: `delay-${shipment}` },
  );
  log(run.created ? `started run ${run.id}` : `run ${run.id} exists: resuming or reading it`);
  // The parties, played here: each answers after a while (or not at all).
  const answering = options.answering ?? ["warehouse", "vendor"];
  const replies = answering.map(
    (party, i) =>
      new Promise<void>((resolve) =>
        setTimeout(
          () =>
            void engine
              .sendEvent({
                id: `${shipment}-${party}`,
                name: `${party}.answered`,
                data: { shipment, party, newDate: `2026-03-${String(10 + i).padStart(2, "0")}` },
              })
              .then(() => log(`${party} answered`))
              .finally(resolve),
          (options.replyMs ?? 100) * (i + 1),
        ),
      ),
  );
  const result = await run.result();
  await Promise.all(replies);
  for (const e of await engine.journal(run.id)) {
    if (e.type.endsWith("_cancelled") || e.type === "combinator_settled")
      log(`${e.type} ${e.key ?? ""}`);
  }
  log(`result: ${JSON.stringify(result)}`);
  await engine.close();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
