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
  try {
    await engine.start(noop, null, { id: "read-me" });
    const startLocal = await inProcess(
      (i) => engine.start(noop, { i }, { id: `local-${i}` }),
      connections,
      seconds,
    );
    const startHttp = await overHttp({
      url: `${url}/v1/workflows/api-noop/runs`,
      method: "POST",
      headers,
      bodies: '{"id":"http-$N","input":null}',
      connections,
      seconds,
    });
    const readLocal = await inProcess(() => engine.getRun("read-me"), connections, seconds);
    const readHttp = await overHttp({
      url: `${url}/v1/runs/read-me`,
      headers,
      connections,
      seconds,
    });
    return { connections, seconds, startLocal, startHttp, readLocal, readHttp };
  } finally {
    await server.close();
    await engine.close();
  }
}
