// npm run demo: a small lead-research workflow on the embedded SQLite store, printing its
// journal as it grows. Interrupt it (Ctrl-C) mid-way and run it again: it resumes where it
// stopped and never repeats a step whose result was journaled.
import { mkdirSync } from "node:fs";
import { createEngine, workflow, type JournalRecord } from "endure";
import { sqliteStore } from "endure/sqlite";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `--fast` (and tests) skip the pauses that make the demo watchable. */
let fast = process.argv.includes("--fast");
const work = (ms: number) => pause(fast ? 1 : ms);

export const research = workflow("research-lead", async (ctx, input: { company: string }) => {
  const profile = await ctx.step("look up company", async () => {
    await work(400);
    return { company: input.company, employees: 120, industry: "logistics" };
  });
  const score = await ctx.step(
    "score fit",
    async () => {
      await work(300);
      return profile.employees > 50 ? 0.82 : 0.31;
    },
    { verify: (s) => s >= 0 && s <= 1 },
  );
  await ctx.sleep("let the CRM catch up", fast ? 10 : "1s");
  const draft = await ctx.step(
    "draft outreach",
    async ({ idempotencyKey }) => {
      await work(400);
      return `Hi ${profile.company} team, ... (draft ${idempotencyKey})`;
    },
    { retries: 3, timeout: "10s" },
  );
  return { score, draft, researchedAt: new Date(ctx.now()) };
});

function describe(e: JournalRecord): string {
  const data = e.data as { attempt?: number; wakeAt?: number } | null;
  const what = e.key === null ? "" : ` ${e.key}`;
  const extra =
    e.type === "sleep_started" && data?.wakeAt !== undefined
      ? ` until ${new Date(data.wakeAt).toISOString()}`
      : "";
  return `${e.at.toISOString()}  ${e.type}${what}${extra}`;
}

/** Runs the demo; returns the run's result. */
export async function main(
  options: { path?: string; fast?: boolean; log?: (line: string) => void } = {},
): Promise<unknown> {
  const path = options.path ?? ".endure/demo.db";
  const log = options.log ?? ((line: string) => console.log(line));
  fast = options.fast ?? fast;
  if (options.path === undefined) mkdirSync(".endure", { recursive: true });
  const engine = await createEngine({ store: sqliteStore(path), workflows: [research] });
  const run = await engine.start(
    research,
    { company: "Acme Freight" },
    { id: "demo-acme-freight" },
  );
  log(run.created ? `started run ${run.id}` : `run ${run.id} exists: resuming or reading it`);
  let shown = 0;
  const follow = setInterval(() => {
    void engine.journal(run.id).then((journal) => {
      for (const e of journal.slice(shown)) log(describe(e));
      shown = Math.max(shown, journal.length);
    });
  }, 50);
  const result = await run.result();
  clearInterval(follow);
  for (const e of (await engine.journal(run.id)).slice(shown)) log(describe(e));
  log(`result: ${JSON.stringify(result, null, 2)}`);
  log(`journal in ${path}; delete it to start over`);
  await engine.close();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
