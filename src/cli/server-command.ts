// `endure server` and `endure dev`: an engine with its worker and the HTTP API (and the
// dashboard at `/`), until SIGTERM or SIGINT. `dev` needs nothing but a workflows module: an
// embedded SQLite file and a fresh admin token, both printed.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname } from "node:path";
import { Command, InvalidArgumentError as CliArgumentError } from "commander";
import { createEngine, type Engine } from "../engine/engine.js";
import { readTokensFile, type Token } from "../server/auth.js";
import { dashboardDir } from "../server/dashboard.js";
import { createServer, type EndureServer } from "../server/server.js";
import { loadWorkflows } from "./load-workflows.js";
import type { Output } from "./output.js";
import { codecFromKeys, KEYS_OPTION_HELP } from "./keys.js";
import { storeFromUrl } from "./store-url.js";

/** Port `endure server` and `endure dev` listen on when none is given. */
export const SERVER_PORT_DEFAULT = 4100;

/** Where `endure dev` keeps its runs when no store is given. */
export const DEV_STORE_DEFAULT = ".endure/dev.db";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new CliArgumentError("expected a port number from 0 to 65535");
  return n;
}

interface ServeOptions {
  readonly store: string;
  readonly workflows: string;
  readonly schema?: string;
  readonly port: number;
  readonly host: string;
  readonly tokens: readonly Token[];
  readonly dashboard: boolean;
  readonly keys?: string;
}

/** Opens the engine and the server, then waits for a signal and closes both. */
async function serve(o: ServeOptions, out: Output, banner: (url: string) => string[]) {
  const workflows = await loadWorkflows(o.workflows);
  const codec = codecFromKeys(o.keys);
  if (!o.store.startsWith("postgres")) mkdirSync(dirname(o.store), { recursive: true });
  const store = storeFromUrl(o.store, o.schema !== undefined ? { schema: o.schema } : {});
  const engine: Engine = await createEngine({
    store,
    workflows,
    ...(codec !== undefined ? { codec } : {}),
    logger: { warn: (m) => out.error(`warn: ${m}`) },
  });
  let server: EndureServer;
  let url: string;
  try {
    const staticDir = o.dashboard ? dashboardDir() : null;
    server = createServer({
      engine,
      tokens: o.tokens,
      ...(staticDir !== null ? { staticDir } : {}),
    });
    ({ url } = await server.listen({ port: o.port, host: o.host }));
  } catch (e) {
    await engine.close();
    throw e;
  }
  for (const line of banner(url).filter((l) => l !== "")) out.log(line);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) process.exit(1);
      stopping = true;
      out.log(`${signal}: closing; running steps finish, then runs are handed back`);
      void server
        .close()
        .then(() => engine.close())
        .catch((e: unknown) => out.error(`closing failed: ${(e as Error).message}`))
        .then(resolve);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}

/** `endure server` and `endure dev`. */
export function serverCommands(out: Output): Command[] {
  const server = new Command("server")
    .description("serve the HTTP API (and the dashboard at /) with a worker, until SIGTERM")
    .requiredOption("--store <url>", "postgres://user@host/db, or a SQLite file path")
    .requiredOption("--workflows <module>", "JavaScript module exporting the workflows")
    .option("--tokens <file>", 'JSON file: [{ "name", "token", "role" }] (needed beyond loopback)')
    .option("--port <n>", "port to listen on (0: any free port)", port, SERVER_PORT_DEFAULT)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--schema <name>", "PostgreSQL schema of endure's tables")
    .option("--keys <file>", KEYS_OPTION_HELP)
    .option("--no-dashboard", "serve the API only")
    .action(async (o: Omit<ServeOptions, "tokens"> & { tokens?: string }) => {
      const tokens = o.tokens === undefined ? [] : readTokensFile(o.tokens);
      await serve({ ...o, tokens }, out, (url) => [
        `endure server on ${url} (API at ${url}/v1, dashboard at ${url}/)`,
        tokens.length === 0 ? "no tokens: every caller on this machine is admin" : "",
      ]);
    });
  const dev = new Command("dev")
    .description("run workflows locally: embedded store, worker, API and dashboard in one command")
    .argument("<workflows>", "module exporting the workflows (.js, or .ts with tsx installed)")
    .option("--store <url>", "where runs are kept", DEV_STORE_DEFAULT)
    .option("--port <n>", "port to listen on (0: any free port)", port, SERVER_PORT_DEFAULT)
    .action(async (workflows: string, o: { store: string; port: number }) => {
      const token = randomBytes(18).toString("base64url");
      const name = userInfo().username;
      await serve(
        {
          store: o.store,
          workflows,
          port: o.port,
          host: "127.0.0.1",
          tokens: [{ name, token, role: "admin" }],
          dashboard: true,
        },
        out,
        (url) => [
          `endure dev: ${url}`,
          `  dashboard  ${url}/  (sign in with the token below)`,
          `  token      ${token}  (admin, as ${name})`,
          `  CLI        ENDURE_URL=${url} ENDURE_TOKEN=${token} endure runs ls`,
          `  store      ${o.store}`,
        ],
      );
    });
  return [server, dev];
}
