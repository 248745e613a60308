// The HTTP API's figures: starting a run and reading a run over loopback HTTP (a load
// generator in its own process, keep-alive connections), beside the same engine call made
// in-process with the same concurrency, in the same run on the same kind of store.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createEngine, workflow } from "endure";
import { createServer } from "endure/server";
import { sqliteStore } from "endure/sqlite";

const run = promisify(execFile);
const silent = { warn: () => {} };
const TOKEN = "bench-admin-token-0123456789";

const noop = workflow("api-noop", async () => 1);

/** Latency percentiles and rate of `call` made by `connections` callers for `seconds`. */
async function inProcess(call, connections, seconds) {
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const t = process.hrtime.bigint();
        await call(n++);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsedS,
    p50: at(0.5),
    p99: at(0.99),
  };
}

async function overHttp(spec) {
  const script = new URL("./http-load.js", import.meta.url).pathname;
  const { stdout } = await run(process.execPath, [script, JSON.stringify(spec)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout);
}

/**
 * Starts and reads over HTTP and in-process on one engine on `path`. A worker-less engine
 * serves, so the figures are the API's and the store's, not the execution of the runs.
 * Latency is measured with one caller (what the API adds to the call it wraps), rate with
 * `connections` callers (how many calls one server answers).
 */
export async function benchApi(path, { connections = 16, seconds = 3 } = {}) {
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [noop],
    worker: false,
    logger: silent,
  });
  const server = createServer({ engine, tokens: [{ name: "bench", token: TOKEN, role: "admin" }] });
  const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
  const headers = { authorization: `Bearer ${TOKEN}` };
  let local = 0;
  const start = (callers) => ({
    local: () =>
      inProcess(
        (i) => engine.start(noop, { i }, { id: `local-${local++}-${i}` }),
        callers,
        seconds,
      ),
    http: () =>
      overHttp({
        url: `${url}/v1/workflows/api-noop/runs`,
        method: "POST",
        headers,
        bodies: '{"id":"http-$N","input":null}',
        connections: callers,
        seconds,
      }),
  });
  const read = (callers) => ({
    local: () => inProcess(() => engine.getRun("read-me"), callers, seconds),
    http: () => overHttp({ url: `${url}/v1/runs/read-me`, headers, connections: callers, seconds }),
  });
  const measure = async (pair) => ({ local: await pair.local(), http: await pair.http() });
  try {
    await engine.start(noop, null, { id: "read-me" });
    return {
      connections,
      seconds,
      startOne: await measure(start(1)),
      startMany: await measure(start(connections)),
      readOne: await measure(read(1)),
      readMany: await measure(read(connections)),
    };
  } finally {
    await server.close();
    await engine.close();
  }
}
