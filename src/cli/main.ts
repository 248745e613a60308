#!/usr/bin/env node
// The `endure` command. A composition root: the only place that picks a store by URL. Each
// command group lives in its own module; this file wires them and maps errors to exit codes.
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { isEndureError } from "../core/errors.js";
import { adminCommands } from "./operator-commands.js";
import { approvalsCommand } from "./approvals-commands.js";
import { connectionHelp } from "./connection.js";
import { EXIT_CODES_HELP, EXIT_STORE_UNREACHABLE, EXIT_USAGE, exitCodeOf } from "./exit-codes.js";
import { eventsCommand, signalCommand } from "./message-commands.js";
import { memoryCommand, queryCommand, updateCommand } from "./memory-commands.js";
import type { Output } from "./output.js";
import { runsCommand } from "./runs-commands.js";
import { serverCommands } from "./server-command.js";
import { startCommand } from "./start-command.js";
import {
  exportCommand,
  gcCommand,
  keysCommand,
  shredCommand,
  verifyCommand,
} from "./admin-commands.js";
import { checkCommand, replayCommand } from "./evolve-commands.js";
import { initCommand } from "./init-command.js";

const out: Output = {
  log: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

const version = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

const program = new Command()
  .name("endure")
  .description("Durable execution for AI agents and long workflows")
  .version(version)
  .addHelpText("after", `\n${connectionHelp}\n\n${EXIT_CODES_HELP}`);

for (const command of [
  initCommand(out),
  ...adminCommands(out),
  ...serverCommands(out),
  startCommand(out),
  runsCommand(out),
  approvalsCommand(out),
  eventsCommand(out),
  signalCommand(out),
  queryCommand(out),
  updateCommand(out),
  memoryCommand(out),
  exportCommand(out),
  gcCommand(out),
  replayCommand(out),
  checkCommand(out),
  verifyCommand(out),
  shredCommand(out),
  keysCommand(out),
])
  program.addCommand(command);

/** Usage errors throw instead of exiting, everywhere, so they get endure's exit code. */
function strict(command: Command): void {
  command.exitOverride().showSuggestionAfterError(true);
  for (const sub of command.commands) strict(sub);
}
strict(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander printed the message (and a suggestion); help and --version exit with 0.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    const code = isEndureError(e) ? e.code : undefined;
    if (code === "key_not_found")
      (e as Error).message +=
        "; give the command the store's key ring with --keys <file> (or ENDURE_KEYS)";
    if (process.argv.includes("--json")) {
      out.error(
        JSON.stringify({ error: { code: code ?? "error", message: (e as Error).message } }),
      );
    } else out.error(`endure: ${(e as Error).message}${code === undefined ? "" : ` [${code}]`}`);
    // `check` sets its own code for a store it cannot reach, distinct from a failure.
    if (process.exitCode !== EXIT_STORE_UNREACHABLE) process.exitCode = exitCodeOf(code);
  }
}
