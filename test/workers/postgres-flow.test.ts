// Proves flow control holds across worker processes on one PostgreSQL database: three
// workers execute runs of a workflow limited to 2 at once, of one limited to 1 per tenant,
// and steps limited to 5 calls per second; the bodies log when they begin and finish to one
// file (appends interleave in one global order), and the test counts overlapping bodies and
// calls per window from it. It also checks that the work really was spread over processes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, tempDir } from "../helpers.js";
import { admin, freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode } from "../support/processes.js";

const WORKER = new URL("../fixtures/pg-worker.mjs", import.meta.url).pathname;

interface Event {
  kind: "begin" | "finish";
  workflow: string;
  key: string;
  at: number;
  worker: string;
}

function events(path: string): Event[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("begin ") || l.startsWith("finish "))
    .map((l) => {
      const [kind, wf = "", key = "", at = "0", worker = ""] = l.split(" ");
      return { kind: kind as Event["kind"], workflow: wf, key, at: Number(at), worker };
    });
}

/** Most bodies open at once, in log order, among events that `pick` selects. */
function mostOverlapping(log: readonly Event[], pick: (e: Event) => boolean): number {
  let open = 0;
  let most = 0;
  for (const e of log.filter(pick)) {
    open += e.kind === "begin" ? 1 : -1;
    most = Math.max(most, open);
  }
  return most;
}

/** The starting side registers the definitions, options included (keys come from inputs). */
const stubs = [
  workflow("limited", async () => null, { concurrency: { limit: 2 } }),
  workflow("per-tenant", async () => null, {
    concurrency: { limit: 1, key: (input: { tenant: string }) => input.tenant },
  }),
  workflow("rated", async () => null),
];

describe("flow control across worker processes on PostgreSQL", () => {
  it("holds concurrency limits per workflow and per key, and a shared rate limit", async () => {
    const url = await freshDatabase();
    const logPath = join(tempDir(), "flow.log");
    const client = await postgresEngine({ url, workflows: stubs, worker: false });
    const workers = ["fa", "fb", "fc"].map((id) =>
      spawnNode(WORKER, [url, logPath, id, "5000", "6"]),
    );
    await Promise.all(workers.map((w) => w.waitFor(/^ready/)));
    const limit = 5;
    const rated = 15;
    const runs = await Promise.all([
      ...Array.from({ length: 16 }, (_, i) => client.start("limited", { i, ms: 60 })),
      ...["t1", "t2", "t3"].flatMap((tenant) =>
        Array.from({ length: 5 }, () => client.start("per-tenant", { tenant, ms: 50 })),
      ),
      ...Array.from({ length: rated }, (_, i) => client.start("rated", { i, limit })),
    ]);
    const t0 = Date.now();
    await eventually(
      async () => {
        const statuses = await admin(async (c) => {
          const r = await c.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM endure.runs WHERE status = 'completed'",
          );
          return r.rows[0]?.n ?? 0;
        }, url);
        return statuses === runs.length;
      },
      60_000,
      "every run to complete",
    );
    const log = events(logPath);
    const limited = (e: Event) => e.workflow === "limited";
    expect(log.filter(limited)).toHaveLength(32);
    expect(mostOverlapping(log, limited), "limited: at most 2 at once").toBe(2);
    for (const t of ["t1", "t2", "t3"]) {
      const tenant = (e: Event) => e.workflow === "per-tenant" && e.key === t;
      expect(mostOverlapping(log, tenant), `tenant ${t}: one at a time`).toBe(1);
    }
    expect(
      mostOverlapping(log, (e) => e.workflow === "per-tenant"),
      "tenants run side by side",
    ).toBeGreaterThan(1);
    const limitedWorkers = new Set(log.filter(limited).map((e) => e.worker));
    expect(limitedWorkers.size, "limited runs ran in several processes").toBeGreaterThan(1);
    // Rate: a full bucket lets `limit` calls through, then one per 1000 / limit ms, across
    // all processes. Every window of calls must fit the bucket (50 ms slack for timers).
    const calls = log
      .filter((e) => e.workflow === "rated")
      .map((e) => e.at)
      .sort((a, b) => a - b);
    expect(calls).toHaveLength(rated);
    for (let i = 0; i < calls.length; i++) {
      for (let j = i; j < calls.length; j++) {
        const windowMs = (calls[j] ?? 0) - (calls[i] ?? 0);
        const allowed = limit + Math.floor(((windowMs + 50) * limit) / 1000);
        expect(j - i + 1, `calls ${i}..${j} within ${windowMs} ms`).toBeLessThanOrEqual(allowed);
      }
    }
    expect((calls.at(-1) ?? 0) - t0, "the limit slowed the calls down").toBeGreaterThanOrEqual(
      ((rated - limit) * 1000) / limit - 100,
    );
    const ratedWorkers = new Set(log.filter((e) => e.workflow === "rated").map((e) => e.worker));
    expect(ratedWorkers.size, "rated calls came from several processes").toBeGreaterThan(1);
    for (const w of workers) w.process.kill("SIGTERM");
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
  });
});
