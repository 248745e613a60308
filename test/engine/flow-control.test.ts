// Proves flow control in one engine on both stores (SQLite and PostgreSQL): concurrency limits
// per workflow and per key hold while runs overlap (counted in the step bodies), priorities
// order the runs a busy worker takes next, and a rate limit paces step bodies as a token
// bucket. Across processes, see test/crash/postgres-flow.test.ts.
import { describe, expect, it } from "vitest";
import { workflow, type Engine, type EngineOptions } from "endure";
import { sqliteEngine } from "../helpers.js";
import { postgresEngine } from "../support/postgres.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

type MakeEngine = (options: Omit<EngineOptions, "store">) => Promise<Engine>;

const engines: Array<[string, MakeEngine]> = [
  ["SQLite", (o) => sqliteEngine(o)],
  ["PostgreSQL", (o) => postgresEngine(o)],
];

/** Counts bodies running at once, overall and per key. */
function overlapCounter() {
  let now = 0;
  let most = 0;
  const perKey = new Map<string, { now: number; most: number }>();
  return {
    async body(key: string, ms: number): Promise<void> {
      const k = perKey.get(key) ?? { now: 0, most: 0 };
      perKey.set(key, k);
      now++;
      k.now++;
      most = Math.max(most, now);
      k.most = Math.max(k.most, k.now);
      await pause(ms);
      now--;
      k.now--;
    },
    get most() {
      return most;
    },
    mostFor(key: string) {
      return perKey.get(key)?.most ?? 0;
    },
  };
}

for (const [name, makeEngine] of engines) {
  describe(`flow control on ${name}`, () => {
    it("keeps a workflow's runs under its concurrency limit", async () => {
      const counter = overlapCounter();
      const limited = workflow(
        "limited",
        async (ctx, input: { i: number }) => {
          await ctx.step("work", () => counter.body("all", 30));
          await ctx.step("more", () => counter.body("all", 10));
          return input.i;
        },
        { concurrency: { limit: 2 } },
      );
      const engine = await makeEngine({ workflows: [limited] });
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => engine.start(limited, { i })),
      );
      expect(await Promise.all(runs.map((r) => r.result()))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(counter.most).toBe(2);
      const stored = await engine.getRun(runs[0]?.id ?? "");
      expect(stored?.status).toBe("completed");
    });

    it("limits runs per key, and runs of different keys side by side", async () => {
      const counter = overlapCounter();
      const perTenant = workflow(
        "per-tenant",
        async (ctx, input: { tenant: string }) => {
          await ctx.step("sync", () => counter.body(input.tenant, 25));
          return input.tenant;
        },
        { concurrency: { limit: 1, key: (input) => input.tenant } },
      );
      const engine = await makeEngine({ workflows: [perTenant] });
      const tenants = ["a", "b", "c"];
      const runs = await Promise.all(
        tenants.flatMap((tenant) =>
          Array.from({ length: 4 }, () => engine.start(perTenant, { tenant })),
        ),
      );
      await Promise.all(runs.map((r) => r.result()));
      for (const t of tenants) expect(counter.mostFor(t), `tenant ${t}`).toBe(1);
      expect(counter.most).toBeGreaterThan(1);
    });

    it("hands a busy worker's next place to the run of highest priority", async () => {
      const order: string[] = [];
      let release: () => void = () => {};
      const blocked = new Promise<void>((r) => (release = r));
      const job = workflow(
        "job",
        async (ctx, input: { name: string }) => {
          await ctx.step("run", async () => {
            order.push(input.name);
            if (input.name === "blocker") await blocked;
          });
          return input.name;
        },
        { priority: 1 },
      );
      const engine = await makeEngine({ workflows: [job], worker: { concurrency: 1 } });
      const blocker = await engine.start(job, { name: "blocker" });
      await new Promise((r) => setTimeout(r, 50));
      const low = await engine.start(job, { name: "low" }, { priority: -10 });
      const normal = await engine.start(job, { name: "default" });
      const high = await engine.start(job, { name: "high" }, { priority: 500 });
      expect((await engine.getRun(high.id))?.priority).toBe(500);
      expect((await engine.getRun(normal.id))?.priority).toBe(1);
      release();
      await Promise.all([blocker, low, normal, high].map((r) => r.result()));
      expect(order).toEqual(["blocker", "high", "default", "low"]);
    });

    it("paces rate-limited step bodies as a token bucket", async () => {
      const starts: number[] = [];
      const limit = 4;
      const periodMs = 1_000;
      const calls = 10;
      const caller = workflow("caller", async (ctx, input: { i: number }) => {
        await ctx.step("call", () => starts.push(Date.now()), {
          rateLimit: { key: "model-api", limit, period: periodMs },
        });
        return input.i;
      });
      const engine = await makeEngine({ workflows: [caller] });
      const t0 = Date.now();
      const runs = await Promise.all(
        Array.from({ length: calls }, (_, i) => engine.start(caller, { i })),
      );
      await Promise.all(runs.map((r) => r.result()));
      starts.sort((a, b) => a - b);
      // A full bucket lets `limit` through at once; then one per periodMs / limit.
      const expectedMs = ((calls - limit) * periodMs) / limit;
      expect((starts.at(-1) ?? 0) - t0).toBeGreaterThanOrEqual(expectedMs - 50);
      for (let i = 0; i < starts.length; i++) {
        for (let j = i; j < starts.length; j++) {
          const windowMs = (starts[j] ?? 0) - (starts[i] ?? 0);
          const allowed = limit + Math.floor(((windowMs + 30) * limit) / periodMs);
          expect(j - i + 1, `calls ${i}..${j} within ${windowMs} ms`).toBeLessThanOrEqual(allowed);
        }
      }
    });
  });
}
