// `endure worker`: runs a worker for a workflows module against a store until SIGTERM, then
// stops gracefully (running steps finish, runs are handed back); serves /healthz if asked.
import { createServer, type Server } from "node:http";
import { createEngine, type Engine } from "../engine/engine.js";
import type { WorkerOptions } from "../engine/options.js";
import { createLogger } from "../observe/logger.js";
import { codecFromKeys } from "./keys.js";
import { loadWorkflows } from "./load-workflows.js";
import type { Output } from "./output.js";
import { storeFromUrl } from "./store-url.js";

/** Options of `endure worker`, as parsed from the command line. */
export interface WorkerCommandOptions {
  readonly store: string;
  readonly workflows: string;
  readonly schema?: string;
  readonly migrate: boolean;
  readonly keys?: string;
  readonly workerId?: string;
  readonly concurrency?: number;
  readonly lease?: string;
  readonly pollInterval?: string;
  readonly closeGrace?: string;
  readonly healthPort?: number;
  readonly healthHost: string;
}

/** Runs the worker until SIGTERM or SIGINT. A second signal exits at once. */
export async function runWorker(o: WorkerCommandOptions, out: Output): Promise<void> {
  const workflows = await loadWorkflows(o.workflows);
  const codec = codecFromKeys(o.keys);
  const store = storeFromUrl(o.store, {
    migrate: o.migrate,
    ...(o.schema !== undefined ? { schema: o.schema } : {}),
  });
  const worker: WorkerOptions = {
    ...(o.workerId !== undefined ? { workerId: o.workerId } : {}),
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.lease !== undefined ? { lease: o.lease } : {}),
    ...(o.pollInterval !== undefined ? { pollInterval: o.pollInterval } : {}),
    ...(o.closeGrace !== undefined ? { closeGrace: o.closeGrace } : {}),
  };
  const engine = await createEngine({
    store,
    workflows,
    worker,
    ...(codec !== undefined ? { codec } : {}),
    // JSON lines on stderr: each run's start, end and failures at info.
    logger: createLogger({ level: "info" }),
  });
  const names = workflows.map((w) => w.name).join(", ");
  out.log(`worker ${engine.workerId ?? ""} started on ${store.description}: ${names}`);
  const server = o.healthPort === undefined ? null : await serveHealth(engine, o, out);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        out.error(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      out.log(`${signal}: no new runs; running steps finish, then runs are handed back`);
      void engine
        .close()
        .catch((e: unknown) => out.error(`closing failed: ${(e as Error).message}`))
        .then(() => new Promise<void>((r) => (server === null ? r() : server.close(() => r()))))
        .then(resolve);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
  out.log("worker stopped");
}

/** Serves GET /healthz: 200 with the engine's health when ok, 503 otherwise. */
async function serveHealth(engine: Engine, o: WorkerCommandOptions, out: Output): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url !== "/healthz" && req.url !== "/health")) {
      res.writeHead(404).end();
      return;
    }
    void engine.health().then((h) => {
      res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(`${JSON.stringify(h)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.healthPort, o.healthHost, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : o.healthPort;
  out.log(`health on http://${o.healthHost}:${String(port)}/healthz`);
  return server;
}
