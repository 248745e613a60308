// `endure export` (a run's journal as JSON Lines) and `endure gc` (retention, now).
import { Command } from "commander";
import { act, connected } from "./command-kit.js";
import { printJson, type Output } from "./output.js";

/** The `export` command. */
export function exportCommand(out: Output): Command {
  return connected(
    new Command("export").description("print a run's journal as JSON Lines, one entry a line"),
  )
    .argument("<id>", "the run's id")
    .action(
      act(out, async (b, p, [id]) => {
        for (const entry of await b.journal(id as string)) p.out.log(JSON.stringify(entry));
      }),
    );
}

/** The `gc` command. */
export function gcCommand(out: Output): Command {
  return connected(
    new Command("gc").description(
      "delete finished runs and spent events older than the retention period, now",
    ),
  ).action(
    act(out, async (b, p) => {
      const result = (await b.gc()) as { runs: number; events: number; cutoff: string };
      if (p.json) return printJson(p, result);
      p.out.log(
        `deleted ${result.runs} runs and ${result.events} events that ended before ${result.cutoff}`,
      );
    }),
  );
}
