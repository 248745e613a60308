// `endure export` (a run's journal as JSON Lines), `endure gc` (retention, now) and
// `endure verify` (a run's journal against its hash chain) and `endure shred` (erasure).
import { Command } from "commander";
import { InvalidArgumentError } from "../core/errors.js";
import { act, connected } from "./command-kit.js";
import { EXIT_TAMPERED } from "./exit-codes.js";
import { printJson, type Output } from "./output.js";

/** The `export` command. */
export function exportCommand(out: Output): Command {
  return connected(
    new Command("export").description("print a run's journal as JSON Lines, one entry a line"),
  )
    .argument("<id>", "the run's id")
    .option(
      "--replayable",
      "print the journal as stored, with the run's input, for endure replay and replayJournal " +
        "(needs --store)",
    )
    .action(
      act<{ replayable?: boolean }>(out, async (b, p, [id], f) => {
        if (f.replayable === true) {
          if (b.replayableJournal === undefined) {
            throw new InvalidArgumentError(
              "--replayable reads the journal as stored: open the store with --store <url>",
            );
          }
          process.stdout.write(await b.replayableJournal(id as string));
          return;
        }
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

/** The `verify` command. */
export function verifyCommand(out: Output): Command {
  return connected(
    new Command("verify").description(
      "check a run's journal against its hash chain: report edited, removed or moved entries",
    ),
  )
    .argument("<id>", "the run's id")
    .action(
      act(out, async (b, p, [id]) => {
        const report = await b.verify(id as string);
        if (!report.ok) process.exitCode = EXIT_TAMPERED;
        if (p.json) return printJson(p, report);
        if (report.ok) {
          p.out.log(
            report.chained === 0
              ? `run ${report.runId}: ${report.entries} entries, none carries a hash (written without hashChain)`
              : `run ${report.runId}: ${report.entries} entries, ${report.chained} chained, all in order; head ${report.head ?? "none"}`,
          );
          return;
        }
        p.out.error(
          `run ${report.runId}: ${report.problems.length} of ${report.entries} entries do not match the hash chain`,
        );
        for (const e of report.problems) {
          p.out.error(
            `  entry ${e.seq} (${e.type}${e.key === null ? "" : ` ${e.key}`}) ${e.problem}`,
          );
        }
      }),
    );
}

/** The `keys` command and its `rotate` subcommand. */
export function keysCommand(out: Output): Command {
  const keys = new Command("keys").description("manage the key ring of an encrypted store");
  keys.addCommand(
    connected(
      new Command("rotate").description(
        "wrap every run's data key under the ring's current key (runKeys), while workers go " +
          "on; then older ring keys seal no run key. Safe to run again",
      ),
    ).action(
      act(out, async (b, p) => {
        const report = await b.rotateKeys();
        if (p.json) return printJson(p, report);
        p.out.log(
          `${report.rewrapped} of ${report.keys} run keys wrapped again under the current key` +
            (report.skipped > 0 ? `; ${report.skipped} changed meanwhile and were left` : ""),
        );
      }),
    ),
  );
  return keys;
}

/** The `shred` command. */
export function shredCommand(out: Output): Command {
  return connected(
    new Command("shred").description(
      "erase an ended run's payloads: delete the data key they are sealed under (runKeys); " +
        "the structure of its journal and its hashes stay",
    ),
  )
    .argument("<id>", "the run's id")
    .action(
      act(out, async (b, p, [id]) => {
        const report = await b.shred(id as string);
        if (p.json) return printJson(p, report);
        p.out.log(
          report.already
            ? `run ${report.runId} was shredded before, at ${report.shreddedAt}`
            : `run ${report.runId} shredded at ${report.shreddedAt}: its payloads can no longer be read`,
        );
      }),
    );
}
