// A small HTTP load generator, run as its own process so it does not share the server's event
// loop: `connections` keep-alive connections send requests back to back for `seconds`, and
// it prints requests per second and latency percentiles as one line of JSON.
//
//   node bench/http-load.js '{"url":"http://127.0.0.1:4100/v1/...","method":"POST","body":...}'
import { Agent, request } from "node:http";

const spec = JSON.parse(process.argv[2] ?? "{}");
const { url, method = "GET", headers = {}, connections = 16, seconds = 3, bodies = null } = spec;
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const target = new URL(url);
let counter = 0;

/** One request; resolves with its latency in ms, or rejects on a non-2xx answer. */
function once() {
  const body = bodies === null ? undefined : bodies.replace("$N", `${process.pid}-${counter++}`);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        headers: {
          ...headers,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode >= 300) reject(new Error(`status ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const latencies = [];
let errors = 0;
const deadline = Date.now() + seconds * 1000;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: connections }, async () => {
    while (Date.now() < deadline) {
      try {
        latencies.push(await once());
      } catch {
        errors++;
      }
    }
  }),
);
const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsedS,
    p50: at(0.5),
    p99: at(0.99),
  }) + "\n",
);
agent.destroy();
