// `endure export` (a run's journal as JSON Lines), `endure gc` (retention, now) and
// `endure verify` (a run's journal against its hash chain) and `endure shred` (erasure).
import { Command } from "commander";
import { InvalidArgumentError } from "../core/errors.js";
import { readFileSync } from "node:fs";
import { verifyAuditFile } from "./audit.js";
import type { VerifyView } from "./backend.js";
import { act, connected, printerFor } from "./command-kit.js";
import { EXIT_TAMPERED } from "./exit-codes.js";
import { printJson, type Output, type Printer } from "./output.js";

/** The `export` command. */
export function exportCommand(out: Output): Command {
  return connected(
    new Command("export").description(
      "print a run's journal as JSON Lines, one entry a line; with --since, the audit export " +
        "of every run active in a time range, as stored, with who did what",
    ),
  )
    .argument("[id]", "the run's id (leave it out with --since)")
    .option(
      "--replayable",
      "print the journal as stored, with the run's input, for endure replay and replayJournal " +
        "(needs --store)",
    )
    .option(
      "--since <time>",
      "audit export: every run updated at or after this ISO time, its whole journal as stored " +
        "(chain hashes, sealed payloads) and who started, decided, cancelled, retried, rewound " +
        "or forked it; `endure verify --file` checks the file (needs --store)",
    )
    .option("--until <time>", "audit export: only runs last updated before this ISO time")
    .option("--format <format>", "audit export format: jsonl (the only one)", "jsonl")
    .action(
      act<{ replayable?: boolean; since?: string; until?: string; format?: string }>(
        out,
        async (b, p, [id], f) => {
          if (f.since !== undefined || f.until !== undefined) {
            if (id !== undefined)
              throw new InvalidArgumentError(
                "export takes a run id or --since, not both: --since exports every run active since then",
              );
            if (f.since === undefined)
              throw new InvalidArgumentError("--until needs --since: the start of the range");
            if (f.format !== "jsonl")
              throw new InvalidArgumentError(
                `--format must be jsonl, got ${JSON.stringify(f.format)}`,
              );
            if (b.auditExport === undefined) {
              throw new InvalidArgumentError(
                "--since reads journals as stored: open the store with --store <url>",
              );
            }
            const since = instant(f.since, "--since");
            const until = f.until === undefined ? null : instant(f.until, "--until");
            const summary = await b.auditExport({ since, until }, (line) =>
              process.stdout.write(`${line}\n`),
            );
            p.out.error(`exported ${summary.runs} runs, ${summary.entries} entries`);
            return;
          }
          if (id === undefined)
            throw new InvalidArgumentError(
              "export needs a run id, or --since <time> for an audit export",
            );
          if (f.replayable === true) {
            if (b.replayableJournal === undefined) {
              throw new InvalidArgumentError(
                "--replayable reads the journal as stored: open the store with --store <url>",
              );
            }
            process.stdout.write(await b.replayableJournal(id));
            return;
          }
          for (const entry of await b.journal(id)) p.out.log(JSON.stringify(entry));
        },
      ),
    );
}

/** An ISO time (or epoch milliseconds) of an option, as epoch milliseconds. */
function instant(text: string, option: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(
      `${option} must be an ISO time (2026-12-01T00:00:00Z) or epoch milliseconds, got ${JSON.stringify(text)}`,
    );
  return ms;
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
  const byStore = act(out, async (b, p, [id]) => {
    if (id === undefined)
      throw new InvalidArgumentError("verify needs a run id, or --file <audit export>");
    printVerify(p, [await b.verify(id)]);
  });
  return connected(
    new Command("verify").description(
      "check a run's journal against its hash chain: report edited, removed or moved entries; " +
        "with --file, every run of an audit export (endure export --since), from the file alone",
    ),
  )
    .argument("[id]", "the run's id (leave it out with --file)")
    .option("--file <path>", "an audit export to check, without the store or the key ring")
    .action(async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      const flags = command.optsWithGlobals<{ file?: string; json?: boolean }>();
      if (flags.file === undefined) return byStore(...received);
      if (typeof received[0] === "string")
        throw new InvalidArgumentError("verify takes a run id or --file, not both");
      let text: string;
      try {
        text = readFileSync(flags.file, "utf8");
      } catch (e) {
        throw new InvalidArgumentError(`cannot read ${flags.file}: ${(e as Error).message}`);
      }
      printVerify(printerFor(out, flags), verifyAuditFile(text, flags.file));
    });
}

function printVerify(p: Printer, reports: readonly VerifyView[]): void {
  if (reports.some((r) => !r.ok)) process.exitCode = EXIT_TAMPERED;
  if (p.json) return printJson(p, reports.length === 1 ? reports[0] : reports);
  for (const report of reports) {
    if (report.ok) {
      p.out.log(
        report.chained === 0
          ? `run ${report.runId}: ${report.entries} entries, none carries a hash (written without hashChain)`
          : `run ${report.runId}: ${report.entries} entries, ${report.chained} chained, all in order; head ${report.head ?? "none"}`,
      );
      continue;
    }
    p.out.error(
      `run ${report.runId}: ${report.problems.length} of ${report.entries} entries do not match the hash chain`,
    );
    for (const e of report.problems) {
      p.out.error(`  entry ${e.seq} (${e.type}${e.key === null ? "" : ` ${e.key}`}) ${e.problem}`);
    }
  }
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
