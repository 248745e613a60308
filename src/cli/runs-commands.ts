// `endure runs ls|show|explain|cancel|retry|rewind|fork|resume`: reading runs and acting on one.
import { jsonArgument } from "./input-arg.js";
import { Command } from "commander";
import type { Backend, RunView } from "./backend.js";
import { act, connected } from "./command-kit.js";
import { ago, printJson, printTable, statusText, type Output, type Printer } from "./output.js";
import { durationOf, timelineOf } from "./timeline.js";

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number, got ${value}`);
  return n;
}

function printRun(p: Printer, run: RunView, verb: string): void {
  if (p.json) return printJson(p, run);
  p.out.log(`${verb} run ${run.id}: ${statusText(p, run.status)}`);
}

/** The `runs` command group. */
export function runsCommand(out: Output): Command {
  const runs = new Command("runs").description("list runs, read one, and act on it");
  connected(runs.command("ls").description("list runs, newest first"))
    .option("--workflow <name>", "only runs of this workflow")
    .option(
      "--status <status>",
      "only runs in this status (pending, running, waiting, paused, completed, failed, cancelled, timed_out)",
    )
    .option("--limit <n>", "at most this many runs (default 100)", whole)
    .option("--cursor <cursor>", "the next page: the cursor the previous page printed")
    .action(
      act<{ workflow?: string; status?: string; limit?: number; cursor?: string }>(
        out,
        async (b, p, _args, f) => {
          const page = await b.listRuns({
            ...(f.workflow !== undefined ? { workflow: f.workflow } : {}),
            ...(f.status !== undefined ? { status: f.status } : {}),
            ...(f.limit !== undefined ? { limit: f.limit } : {}),
            ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
          });
          if (p.json) return printJson(p, page);
          printTable(
            p,
            ["ID", "WORKFLOW", "STATUS", "CREATED", "UPDATED"],
            page.runs.map((r) => [
              r.id,
              r.workflow,
              statusText(p, r.status),
              ago(r.createdAt),
              ago(r.updatedAt),
            ]),
          );
          if (page.next !== null) p.out.log(p.style.dim(`more: --cursor ${page.next}`));
        },
      ),
    );
  connected(
    runs
      .command("show")
      .description("a run and its timeline: steps, waits, errors, tokens and cost"),
  )
    .argument("<id>", "the run's id")
    .action(act(out, async (b, p, [id]) => showRun(b, p, id as string)));
  connected(runs.command("explain").description("where a run is and why, in one sentence"))
    .argument("<id>", "the run's id")
    .action(
      act(out, async (b, p, [id]) => {
        const e = await b.explain(id as string);
        if (p.json) return printJson(p, e);
        p.out.log(e.sentence);
      }),
    );
  connected(runs.command("cancel").description("cancel a run that has not ended"))
    .argument("<id>", "the run's id")
    .option("--reason <text>", "why, kept in the journal")
    .action(
      act<{ reason?: string }>(out, async (b, p, [id], f) =>
        printRun(p, await b.cancel(id as string, f.reason), "cancelled"),
      ),
    );
  connected(runs.command("retry").description("run a failed run again from its failed step"))
    .argument("<id>", "the run's id")
    .action(act(out, async (b, p, [id]) => printRun(p, await b.retry(id as string), "retried")));
  connected(
    runs
      .command("rewind")
      .description(
        "re-open a run that ended from a step, after a bug fix: the steps before it are not run again",
      ),
  )
    .argument("<id>", "the run's id")
    .requiredOption("--to-step <step>", "the step's key (plan#1), name (plan) or position (3)")
    .action(
      act<{ toStep: string }>(out, async (b, p, [id], f) =>
        printRun(p, await b.rewind(id as string, stepRef(f.toStep)), "rewound"),
      ),
    );
  connected(
    runs
      .command("fork")
      .description(
        "start a new run sharing a run's journal up to a step, optionally with that step's output replaced",
      ),
  )
    .argument("<id>", "the run's id")
    .requiredOption("--at-step <step>", "the step's key (plan#1), name (plan) or position (3)")
    .option("--output <json>", "the step's output in the fork: JSON, or @file")
    .option("--id <id>", "the fork's run id (default: a new one)")
    .action(
      act<{ atStep: string; output?: string; id?: string }>(out, async (b, p, [id], f) =>
        printRun(
          p,
          await b.fork(id as string, {
            atStep: stepRef(f.atStep),
            ...(f.output === undefined ? {} : { output: jsonArgument(f.output, "--output") }),
            ...(f.id === undefined ? {} : { id: f.id }),
          }),
          "forked",
        ),
      ),
    );
  connected(runs.command("resume").description("make a paused run runnable again"))
    .argument("<id>", "the run's id")
    .option(
      "--on-version <version>",
      "move the run to this version of its workflow (it replays its journal on that code)",
    )
    .action(
      act<{ onVersion?: string }>(out, async (b, p, [id], f) =>
        printRun(p, await b.resume(id as string, f.onVersion), "resumed"),
      ),
    );
  return runs;
}

/** A step as the command line names it: digits are a position. */
function stepRef(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

async function showRun(b: Backend, p: Printer, id: string): Promise<void> {
  const [run, journal] = await Promise.all([b.getRun(id), b.journal(id)]);
  const timeline = timelineOf(journal);
  if (p.json) return printJson(p, { run, timeline });
  const { style } = p;
  p.out.log(`${style.bold(run.id)}  ${run.workflow}  ${statusText(p, run.status)}`);
  p.out.log(`created ${ago(run.createdAt)}, updated ${ago(run.updatedAt)}`);
  const u = run.usage;
  if (u !== undefined && (u.inputTokens ?? 0) + (u.outputTokens ?? 0) > 0)
    p.out.log(
      `tokens ${(u.inputTokens ?? 0) + (u.outputTokens ?? 0)}, cost $${(u.costUsd ?? 0).toFixed(4)}`,
    );
  if (run.error !== undefined && run.error !== null)
    p.out.log(style.red(`error: ${run.error.name}: ${run.error.message}`));
  if (run.pausedReason !== undefined && run.pausedReason !== null)
    p.out.log(style.yellow(`paused: ${run.pausedReason}`));
  p.out.log("");
  printTable(
    p,
    ["#", "KIND", "NAME", "STATUS", "TOOK", "ATTEMPTS", "TOKENS", "COST", "BY"],
    timeline.map((t) => [
      String(t.position),
      t.kind,
      t.name,
      t.status,
      durationOf(t),
      t.kind === "step" ? String(t.attempts) : "-",
      t.tokens === null ? "-" : String(t.tokens),
      t.costUsd === null ? "-" : `$${t.costUsd.toFixed(4)}`,
      t.by ?? "-",
    ]),
  );
  for (const t of timeline) for (const e of t.errors) p.out.log(style.red(`  ${t.name}: ${e}`));
}
