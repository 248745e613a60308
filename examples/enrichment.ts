// npx tsx examples/enrichment.ts: contact enrichment against a rate-limited API. A small
// enrichment API on 127.0.0.1 answers 429 with a retry-after-ms header to a client that goes
// over 5 calls a second, and (to show the retries) to the first call for each contact. Each
// contact is a step of ctx.map (at most 2 at once) that throws RetryAfterError with the
// server's delay, so the retry waits exactly as long as the API asks; the steps also share a
// rate limit of 2 calls a second (a token bucket: at most 4 in any second), so they never go
// over the API's limit. Every call carries the step's idempotency key; the API counts each
// contact enriched once, and a second run of the example, answered from the journal, calls
// it not at all.
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEngine, RetryAfterError, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

const CONTACTS = ["ana@acme.io", "bo@globex.com", "cy@initech.com", "di@umbrella.io"];

/** The enrichment API double: 429 (retry after 150 ms) for the first call of each request
 * (by idempotency key) and for any call past 5 in the last second; else the company. */
function startApi() {
  const calls = { total: 0, refused: 0, enriched: new Map<string, number>() };
  const keys = new Set<string>();
  let recent: number[] = [];
  const server = createServer((req, res) => {
    calls.total++;
    const email = new URL(req.url ?? "/", "http://x").searchParams.get("email") ?? "";
    const key = String(req.headers["idempotency-key"]);
    const now = Date.now();
    recent = [...recent.filter((t) => now - t < 1000), now];
    if (!keys.has(key) || recent.length > 5) {
      keys.add(key);
      calls.refused++;
      res.writeHead(429, { "retry-after-ms": "150" }).end();
      return;
    }
    calls.enriched.set(email, (calls.enriched.get(email) ?? 0) + 1);
    const domain = email.split("@")[1] ?? "";
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ email, company: domain.split(".")[0], domain }));
  });
  return new Promise<{ url: string; calls: typeof calls; close: () => void }>((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, calls, close: () => server.close() });
    }),
  );
}

export function enrichWorkflow(apiUrl: string) {
  return workflow("enrich-contacts", async (ctx, input: { contacts: string[] }) =>
    ctx.map(
      "enrich",
      input.contacts,
      async (email, { idempotencyKey, attempt }) => {
        const res = await fetch(`${apiUrl}/enrich?email=${encodeURIComponent(email)}`, {
          headers: {
            "idempotency-key": idempotencyKey,
            ...(attempt > 1 ? { "x-retry": "1" } : {}),
          },
        });
        if (res.status === 429)
          throw new RetryAfterError(Number(res.headers.get("retry-after-ms")));
        if (!res.ok) throw new Error(`enrichment API answered ${res.status}`);
        return { ...((await res.json()) as { company: string }), attempts: attempt };
      },
      { concurrency: 2, retries: 8, rateLimit: { key: "enrichment-api", limit: 2, period: "1s" } },
    ),
  );
}

export async function main(log: (line: string) => void = console.log): Promise<unknown> {
  mkdirSync(".endure", { recursive: true });
  const api = await startApi();
  const enrich = enrichWorkflow(api.url);
  const engine = await createEngine({
    store: sqliteStore(".endure/enrichment.db"),
    workflows: [enrich],
  });
  try {
    const run = await engine.start(enrich, { contacts: CONTACTS }, { id: "enrich-batch-1" });
    const contacts = await run.result();
    for (const c of contacts) log(`${JSON.stringify(c)}`);
    log(
      `API calls: ${api.calls.total}, refused with 429: ${api.calls.refused}, contacts enriched: ${api.calls.enriched.size}, each once: ${[...api.calls.enriched.values()].every((n) => n === 1)}`,
    );
    return contacts;
  } finally {
    await engine.close();
    api.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
