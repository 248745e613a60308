// `endure start <workflow> --input <json|@file> [--wait]`: starts a run; with --wait, shows its
// steps as they complete (a spinner on a terminal) and its result at the end.
import { Command } from "commander";
import type { Backend, RunView } from "./backend.js";
import { act, connected } from "./command-kit.js";
import { EXIT_RUN_UNSUCCESSFUL } from "./exit-codes.js";
import { jsonArgument } from "./input-arg.js";
import { printJson, statusText, type Output, type Printer } from "./output.js";
import { durationOf, timelineOf } from "./timeline.js";

/** How often `start --wait` reads the run, in milliseconds. */
export const WAIT_POLL_MS = 200;

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ENDED = new Set(["completed", "failed", "cancelled", "timed_out", "paused"]);

/** The `start` command. */
export function startCommand(out: Output): Command {
  return connected(new Command("start").description("start a run of a workflow"))
    .argument("<workflow>", "the workflow's name")
    .option("--input <json>", "the run's input: JSON, or @file")
    .option("--id <id>", "the run's id (idempotency key)")
    .option("--wait", "show the steps as they complete and print the result")
    .option("--workflows <module>", "with --store: the module defining the workflow")
    .action(
      act<{ input?: string; id?: string; wait?: boolean }>(out, async (b, p, [name], f) => {
        const input = jsonArgument(f.input, "--input");
        const started = await b.start(
          name as string,
          input,
          f.id === undefined ? {} : { id: f.id },
        );
        if (f.wait !== true) {
          if (p.json) return printJson(p, started);
          return p.out.log(`${started.created ? "started" : "found existing"} run ${started.id}`);
        }
        if (!p.json) p.out.log(`${started.created ? "started" : "following"} run ${started.id}`);
        const run = await follow(b, p, started.id);
        if (p.json) printJson(p, run);
        else if (run.status === "completed") p.out.log(JSON.stringify(run.output ?? null, null, 2));
        else {
          const why =
            run.error === undefined || run.error === null
              ? (run.pausedReason ?? "")
              : `${run.error.name}: ${run.error.message}`;
          p.out.error(`run ${run.id} ${statusText(p, run.status)}${why === "" ? "" : `: ${why}`}`);
        }
        if (run.status !== "completed") process.exitCode = EXIT_RUN_UNSUCCESSFUL;
      }),
    );
}

/** Reads the run until it ends, printing each operation as it completes. */
async function follow(b: Backend, p: Printer, id: string): Promise<RunView> {
  const shown = new Set<number>();
  let frame = 0;
  for (;;) {
    const [run, journal] = await Promise.all([b.getRun(id), b.journal(id)]);
    if (p.tty && !p.json) process.stdout.write("\r\x1b[2K");
    for (const item of timelineOf(journal)) {
      if (item.endedAt === null || shown.has(item.position)) continue;
      shown.add(item.position);
      if (p.json) continue;
      const mark = item.status === "failed" ? p.style.red("✗") : p.style.green("✓");
      const by = item.by === null ? "" : ` by ${item.by}`;
      p.out.log(`${mark} ${item.kind} ${item.name} ${item.status}${by} (${durationOf(item)})`);
    }
    if (ENDED.has(run.status)) return run;
    if (p.tty && !p.json) {
      const e = await b.explain(id);
      process.stdout.write(`${SPINNER[frame++ % SPINNER.length] ?? ""} ${e.sentence}`);
    }
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}
