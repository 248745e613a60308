// `endure worker` and `endure migrate`: the commands that run endure itself on a store.
import { Command, InvalidArgumentError as CliArgumentError } from "commander";
import type { Output } from "./output.js";
import { KEYS_OPTION_HELP } from "./keys.js";
import { storeFromUrl } from "./store-url.js";
import { runWorker } from "./worker-command.js";

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliArgumentError("expected a whole number");
  return n;
}

/** `worker` and `migrate`. */
export function adminCommands(out: Output): Command[] {
  const worker = new Command("worker")
    .description("run a worker for the workflows of a module until SIGTERM")
    .requiredOption("--store <url>", "postgres://user@host/db, or a SQLite file path")
    .requiredOption("--workflows <module>", "JavaScript module exporting the workflows")
    .option("--schema <name>", "PostgreSQL schema of endure's tables", "endure")
    .option("--no-migrate", "fail instead of migrating a schema that is behind")
    .option("--keys <file>", KEYS_OPTION_HELP)
    .option("--worker-id <id>", "stable identity: a restart with it reclaims its runs at once")
    .option("--concurrency <n>", "runs executing in memory at once", wholeNumber)
    .option("--lease <duration>", "lease on a claimed run, such as 30s")
    .option("--poll-interval <duration>", "idle poll of the store, such as 200ms")
    .option("--close-grace <duration>", "how long running steps may finish on SIGTERM")
    .option("--health-port <port>", "serve GET /healthz on this port (0: any)", wholeNumber)
    .option("--health-host <host>", "address of the health endpoint", "127.0.0.1")
    .action((options: Parameters<typeof runWorker>[0]) => runWorker(options, out));
  const migrate = new Command("migrate")
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
  return [worker, migrate];
}
