// npx tsx examples/endless-agent.ts: a support agent that runs for as long as its customer
// writes. Each message is a turn: the agent waits for it (a signal), answers it in a step, and
// folds it into a short summary. Every TURNS_PER_SEGMENT turns it calls ctx.continueAsNew with
// that summary: the run keeps its id and carries on in a fresh journal segment, so a recovery
// replays only the turns since the last continue, however long the conversation gets. The
// earlier segments stay in the journal, numbered. Messages sent meanwhile wait for the run.
import { mkdirSync, rmSync } from "node:fs";
import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

/** Turns the agent takes in one journal segment before it continues as new. */
export const TURNS_PER_SEGMENT = 3;

interface Conversation {
  customer: string;
  turns: number;
  summary: string[];
}

export const supportAgent = workflow("support-agent", async (ctx, input: Conversation) => {
  let state = input;
  for (let turn = 0; turn < TURNS_PER_SEGMENT; turn++) {
    const message = await ctx.waitForSignal<{ text: string }>("message", { timeout: "30d" });
    if (message === null || message.data.text === "bye") return state;
    await ctx.step("answer", () => `Dear ${state.customer}, about "${message.data.text}": done.`);
    state = {
      ...state,
      turns: state.turns + 1,
      summary: [...state.summary, message.data.text].slice(-TURNS_PER_SEGMENT),
    };
  }
  // Carry on in a fresh segment with only what the next turns need.
  return ctx.continueAsNew(state);
});

export async function main(log: (line: string) => void = console.log): Promise<unknown> {
  rmSync(".endure/endless-agent.db", { force: true });
  mkdirSync(".endure", { recursive: true });
  const engine = await createEngine({
    store: sqliteStore(".endure/endless-agent.db"),
    workflows: [supportAgent],
  });
  try {
    const run = await engine.start(
      supportAgent,
      { customer: "Ada", turns: 0, summary: [] },
      { id: "conversation-ada" },
    );
    const messages = ["refund", "invoice", "address", "password", "upgrade", "export", "login"];
    for (const text of [...messages, "bye"]) await run.signal("message", { text });
    const result = await run.result();
    log(`result: ${JSON.stringify(result)}`);
    const journal = await engine.journal(run.id);
    const segments = new Map<number, number>();
    for (const e of journal) {
      if (e.type === "step_succeeded") segments.set(e.segment, (segments.get(e.segment) ?? 0) + 1);
    }
    for (const [segment, answers] of segments) log(`segment ${segment}: ${answers} answers`);
    const continued = journal.filter((e) => e.type === "run_continued").length;
    log(`continued as new ${continued} times; one run id: ${run.id}`);
    return result;
  } finally {
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
