// What every command shares: the connection and --json options, and an action that opens the
// backend, runs, prints and closes it.
import type { Command } from "commander";
import type { Backend } from "./backend.js";
import { openBackend, type ConnectionFlags } from "./connection.js";
import { KEYS_OPTION_HELP } from "./keys.js";
import { styleFor, type Output, type Printer } from "./output.js";

/** Options every connected command has. */
export interface CommonFlags extends ConnectionFlags {
  readonly json?: boolean;
}

/** Adds the connection options and --json to `cmd`. */
export function connected(cmd: Command): Command {
  return cmd
    .option("--url <url>", "endure server to talk to (ENDURE_URL)")
    .option("--token <token>", "bearer token for the server (ENDURE_TOKEN)")
    .option(
      "--store <url>",
      "store to open directly: SQLite file or postgres:// URL (ENDURE_STORE)",
    )
    .option("--schema <name>", "PostgreSQL schema of endure's tables (ENDURE_SCHEMA)")
    .option("--keys <file>", KEYS_OPTION_HELP)
    .option("--config <file>", "JSON config file with url, token, store, schema (ENDURE_CONFIG)")
    .option("--json", "print JSON for scripts instead of text");
}

/** The printer for a command's flags. */
export function printerFor(out: Output, flags: { json?: boolean }): Printer {
  const tty = process.stdout.isTTY;
  return { out, style: styleFor(tty, process.env), json: flags.json === true, tty };
}

/**
 * An action for commander: the last two arguments it passes are the options and the command;
 * those before are the command's arguments.
 */
export function act<F extends object = object>(
  out: Output,
  run: (backend: Backend, p: Printer, args: string[], flags: F & CommonFlags) => Promise<void>,
): (...received: unknown[]) => Promise<void> {
  return async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const flags = command.optsWithGlobals<F & CommonFlags>();
    const args = received.slice(0, -2).flat() as string[];
    const backend = await openBackend(flags);
    try {
      await run(backend, printerFor(out, flags), args, flags);
    } finally {
      await backend.close();
    }
  };
}
