// npx tsx examples/publishing.ts: content publishing with an editor's approval and a
// revision loop. A draft goes to review; each rejection's comment is journaled with the
// decision and drives a revision step; the approved version is published once. Each round's
// approval has its own name (review 1, review 2, ...), so a replay takes the same rounds.
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createEngine, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";

/** Rounds of review before the article goes back to its author. */
export const REVIEW_ROUNDS_MAX = 3;

export const publish = workflow("publish-article", async (ctx, input: { topic: string }) => {
  let draft = await ctx.step("write draft", () => ({
    title: `Everything about ${input.topic}, and then some`,
    version: 1,
  }));
  for (let round = 1; round <= REVIEW_ROUNDS_MAX; round++) {
    const review = await ctx.approval(`review ${round}`, {
      title: `Publish "${draft.title}"?`,
      details: draft,
      approvers: ["editor@example.com"],
      timeout: "3d",
    });
    if (review.approved) {
      const { url } = await ctx.step("publish", ({ idempotencyKey }) => {
        // A CMS call keyed by idempotencyKey: a retry never publishes twice.
        const slug = draft.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
        return { url: `https://blog.example.com/${slug}`, key: idempotencyKey };
      });
      return { published: true, title: draft.title, rounds: round, url };
    }
    const comment = review.comment ?? "no comment";
    draft = await ctx.step(`revise ${round}`, () => ({
      title: comment.includes("shorter") ? `All about ${input.topic}` : draft.title,
      version: draft.version + 1,
    }));
  }
  return { published: false, title: draft.title, rounds: REVIEW_ROUNDS_MAX, url: null };
});

/** The editor: rejects the first version with a comment, approves the next. */
async function editor(engine: Engine, runId: string, log: (line: string) => void) {
  for (let decided = 0; decided < 2;) {
    const [open] = await engine.approvals({ runId });
    if (open === undefined) {
      if ((await engine.getRun(runId))?.status === "completed") return;
      await sleep(20);
      continue;
    }
    log(`editor sees ${open.name}: ${open.title}`);
    if (decided === 0)
      await engine.reject(runId, open.name, { by: "editor@example.com", comment: "shorter title" });
    else await engine.approve(runId, open.name, { by: "editor@example.com" });
    decided++;
  }
}

export async function main(log: (line: string) => void = console.log): Promise<unknown> {
  mkdirSync(".endure", { recursive: true });
  const engine = await createEngine({
    store: sqliteStore(".endure/publishing.db"),
    workflows: [publish],
  });
  try {
    const run = await engine.start(publish, { topic: "durable agents" }, { id: "article-42" });
    if (run.created) await editor(engine, run.id, log);
    const result = await run.result();
    log(`result: ${JSON.stringify(result)}`);
    const journal = await engine.journal(run.id);
    for (const e of journal) {
      if (e.type !== "wait_completed") continue;
      const { result: r } = e.data as {
        result: { outcome: string; by: string; comment: string | null };
      };
      log(`journal: ${e.key} ${r.outcome} by ${r.by}${r.comment === null ? "" : `: ${r.comment}`}`);
    }
    return result;
  } finally {
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
