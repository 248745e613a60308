// Proves every write lock a transactional step takes has a bound, on real SQLite: a step body
// that never resolves is ended by the default transactional timeout (its transaction rolled
// back), health reports the held write lock while it lasts, unrelated starts go through once
// it ends, and close() returns; and on real PostgreSQL that a transactional step longer than
// the lease costs its worker no lease (no run is taken over, no body runs twice).
import { describe, expect, it } from "vitest";
import { isEndureError, limits, workflow } from "endure";
import { eventually, sqliteEngine } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms),
    ),
  ]);

describe("bounded write locks on SQLite", () => {
  it("ends a transactional step that never resolves, and health sees the stuck writer", async () => {
    let entered = false;
    const stuck = workflow("stuck", async (ctx) =>
      ctx.step(
        "forever",
        async ({ tx }) => {
          await tx.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER)");
          entered = true;
          return new Promise<never>(() => {});
        },
        { transactional: true, retries: 0 },
      ),
    );
    const echo = workflow("echo", async (ctx, n: number) => ctx.step("double", () => n * 2));
    const engine = await sqliteEngine({
      workflows: [stuck, echo],
      worker: { closeGrace: "1s" },
    });
    const started = Date.now();
    const run = await engine.start(stuck, undefined);
    await within(
      (async () => {
        while (!entered) await new Promise((r) => setTimeout(r, 5));
      })(),
      10_000,
      "entering the step",
    );
    await new Promise((r) => setTimeout(r, limits.HEALTH_CHECK_MS_MAX + 300));
    const health = await engine.health();
    expect(health.ok).toBe(false);
    expect(health.store.error).toMatch(/write lock .* held for \d+ ms/);

    const other = await within(engine.start(echo, 21), 30_000, "an unrelated start");
    expect(await within(other.result(), 30_000, "the unrelated run")).toBe(42);
    const error = await within(
      run.result().then(
        () => null,
        (e: unknown) => e,
      ),
      30_000,
      "the stuck run",
    );
    expect(isEndureError(error, "step_timeout"), String(error)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(
      limits.TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT - 100,
    );
    expect((await engine.health()).ok).toBe(true);
    await within(engine.close(), 20_000, "close()");
  });

  it("refuses a transactional step timeout longer than the bound", async () => {
    const long = workflow("long", async (ctx) =>
      ctx.step("slow", () => 1, {
        transactional: true,
        timeout: limits.TRANSACTIONAL_STEP_TIMEOUT_MS_MAX + 1,
      }),
    );
    const engine = await sqliteEngine({ workflows: [long] });
    const error = await (await engine.start(long, undefined)).result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isEndureError(error, "invalid_argument"), String(error)).toBe(true);
    expect((error as Error).message).toContain("transactional");
  });
});

describe("lease renewal beside a long transactional step on PostgreSQL", () => {
  it("keeps every lease of a healthy worker while one run holds a transaction past the lease", async () => {
    const url = await freshDatabase();
    const bodies = new Map<string, number>();
    const count = (key: string) => bodies.set(key, (bodies.get(key) ?? 0) + 1);
    const long = workflow("long-tx", async (ctx) =>
      ctx.step(
        "post",
        async ({ tx }) => {
          count("long-tx");
          await tx.query("SELECT 1");
          await new Promise((r) => setTimeout(r, 7_000));
          return "posted";
        },
        { transactional: true, timeout: "30s", retries: 0 },
      ),
    );
    const busy = workflow("busy", async (ctx, n: number) => {
      await ctx.step("work", async () => {
        count(`busy-${n}:work`);
        await new Promise((r) => setTimeout(r, 6_000));
      });
      return n;
    });
    const lease = { lease: "2s", pollInterval: 50 } as const;
    const first = await postgresEngine({
      url,
      workflows: [long, busy],
      worker: { ...lease, workerId: "first" },
    });
    const runs: Array<{ id: string }> = [await first.start(long, undefined)];
    for (let n = 0; n < 5; n++) runs.push(await first.start(busy, n));
    await eventually(() => bodies.get("long-tx") === 1 && bodies.size === 6, 20_000, "bodies");
    // A second, idle worker takes over any run whose lease expires.
    const second = await postgresEngine({
      url,
      workflows: [long, busy],
      worker: { ...lease, workerId: "second" },
    });
    const results = await Promise.all(runs.map((r) => second.handle(r.id).result()));
    expect(results).toEqual(["posted", 0, 1, 2, 3, 4]);
    expect(
      [...bodies.values()].every((n) => n === 1),
      JSON.stringify([...bodies]),
    ).toBe(true);
    const recovered = await Promise.all(
      runs.map(
        async (r) => (await second.journal(r.id)).filter((e) => e.type === "run_recovered").length,
      ),
    );
    expect(recovered).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
