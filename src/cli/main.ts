#!/usr/bin/env node
// The `endure` command: `endure worker` runs a worker process, `endure migrate` brings a
// store's schema up to date. A composition root: the only place that picks a store by URL.
import { createRequire } from "node:module";
import { Command, InvalidArgumentError as CliArgumentError } from "commander";
import { isEndureError } from "../core/errors.js";
import { storeFromUrl } from "./store-url.js";
import { runWorker, type Output } from "./worker-command.js";

const out: Output = {
  log: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

const version = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliArgumentError("expected a whole number");
  return n;
}

const program = new Command()
  .name("endure")
  .description("Durable execution for AI agents and long workflows")
  .version(version);

program
  .command("worker")
  .description("run a worker for the workflows of a module until SIGTERM")
  .requiredOption("--store <url>", "postgres://user@host/db, or a SQLite file path")
  .requiredOption("--workflows <module>", "JavaScript module exporting the workflows")
  .option("--schema <name>", "PostgreSQL schema of endure's tables", "endure")
  .option("--no-migrate", "fail instead of migrating a schema that is behind")
  .option("--worker-id <id>", "stable identity: a restart with it reclaims its runs at once")
  .option("--concurrency <n>", "runs executing in memory at once", wholeNumber)
  .option("--lease <duration>", "lease on a claimed run, such as 30s")
  .option("--poll-interval <duration>", "idle poll of the store, such as 200ms")
  .option("--close-grace <duration>", "how long running steps may finish on SIGTERM")
  .option("--health-port <port>", "serve GET /healthz on this port (0: any)", wholeNumber)
  .option("--health-host <host>", "address of the health endpoint", "127.0.0.1")
  .action((options: Parameters<typeof runWorker>[0]) => runWorker(options, out));

program
  .command("migrate")
  .description("apply the store's migrations and print its schema version")
  .requiredOption("--store <url>", "postgres://user@host/db, or a SQLite file path")
  .option("--schema <name>", "PostgreSQL schema of endure's tables", "endure")
  .action(async (options: { store: string; schema: string }) => {
    const store = storeFromUrl(options.store, { schema: options.schema, migrate: true });
    await store.open();
    const report = (store as { migration?: { from: number; to: number } | null }).migration;
    await store.close();
    out.log(
      report === undefined || report === null
        ? `${store.description}: up to date`
        : `${store.description}: schema version ${report.to} (was ${report.from})`,
    );
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const code = isEndureError(e) ? ` [${e.code}]` : "";
  out.error(`endure: ${(e as Error).message}${code}`);
  process.exitCode = 1;
}
