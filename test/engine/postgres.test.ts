// Proves the engine works end to end on a real PostgreSQL database: runs complete with their
// journal, transactional steps commit their writes with their journal entry ($1 placeholders)
// or not at all, and LISTEN/NOTIFY hands a run started elsewhere to an idle worker without
// waiting for a poll (the poll interval is set to an hour).
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createEngine, workflow } from "endure";
import { postgresStore } from "endure/postgres";
import type { ClaimRequest, CommitBatch } from "../../src/store/store.js";
import { eventually, onCleanup } from "../helpers.js";
import { freshDatabase, postgresEngine } from "../support/postgres.js";

const steps = workflow("steps", async (ctx, input: { n: number }) => {
  let total = 0;
  for (let i = 1; i <= input.n; i++) total += await ctx.step("add", () => i);
  await ctx.sleep("nap", 5);
  return total;
});

async function ledger(url: string): Promise<Array<{ run_id: string; amount: number }>> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const result = await client.query<{ run_id: string; amount: number }>(
      "SELECT run_id, amount FROM ledger ORDER BY id",
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

describe("the engine on PostgreSQL", () => {
  it("runs a workflow to completion and journals every step", async () => {
    const engine = await postgresEngine({ workflows: [steps] });
    const run = await engine.start(steps, { n: 5 }, { id: "five" });
    expect(await run.result()).toBe(15);
    const journal = await engine.journal("five");
    expect(journal.filter((e) => e.type === "step_succeeded")).toHaveLength(5);
    expect(journal.filter((e) => e.type === "step_attempt_started")).toHaveLength(5);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    expect(journal.at(-1)?.type).toBe("run_completed");
    expect((await engine.getRun("five"))?.status).toBe("completed");
  });

  it("commits a transactional step's writes with its journal entry, and none of a failed attempt", async () => {
    const url = await freshDatabase();
    const post = workflow("post", async (ctx, input: { amount: number }) => {
      await ctx.step(
        "schema",
        async ({ tx }) => {
          await tx.execute(
            "CREATE TABLE IF NOT EXISTS ledger (id serial PRIMARY KEY, run_id text NOT NULL, amount integer NOT NULL)",
          );
        },
        { transactional: true },
      );
      const [parallel, total] = await Promise.all([
        ctx.step("beside", () => "ran beside the transaction"),
        ctx.step(
          "post",
          async ({ tx, attempt }) => {
            await tx.execute("INSERT INTO ledger (run_id, amount) VALUES ($1, $2)", [
              ctx.runId,
              input.amount,
            ]);
            if (attempt === 1) throw new Error("refused once");
            const rows = await tx.query<{ total: string }>(
              "SELECT sum(amount) AS total FROM ledger WHERE run_id = $1",
              [ctx.runId],
            );
            return Number(rows[0]?.total);
          },
          { transactional: true, retries: 2, backoff: { initial: 1 } },
        ),
      ]);
      return { parallel, total };
    });
    const engine = await postgresEngine({ url, workflows: [post] });
    const run = await engine.start(post, { amount: 70 }, { id: "p1" });
    expect(await run.result()).toEqual({ parallel: "ran beside the transaction", total: 70 });
    expect(await ledger(url)).toEqual([{ run_id: "p1", amount: 70 }]);
    const journal = await engine.journal("p1");
    expect(journal.filter((e) => e.key === "post#1").map((e) => e.type)).toEqual([
      "step_attempt_started",
      "step_attempt_failed",
      "step_attempt_started",
      "step_succeeded",
    ]);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
  });

  it("wakes an idle worker with NOTIFY when another process starts a run", async () => {
    const url = await freshDatabase();
    const worker = await postgresEngine({
      url,
      workflows: [steps],
      worker: { pollInterval: "1h" },
    });
    const client = await postgresEngine({ url, workflows: [steps], worker: false });
    // The worker's first poll happened at start; from now on only a notification wakes it.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const run = await client.start(steps, { n: 2 }, { id: "pushed" });
    const info = await eventually(async () => {
      const r = await worker.getRun("pushed");
      return r?.status === "completed" ? r : null;
    }, 10_000);
    expect(info.output).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await run.result()).toBe(3);
  });

  it("never takes a run it just started for one its own worker left behind", async () => {
    // A worker's first claim takes back the runs its id held before (a restart). Here that
    // claim is held back until a run has been created: it must still not take that run, which
    // would then lose its lease to its own worker.
    const store = postgresStore(await freshDatabase());
    let created: () => void = () => {};
    const createdOnce = new Promise<void>((resolve) => (created = resolve));
    let firstClaim = true;
    const slowed = new Proxy(store, {
      get(target, prop) {
        if (prop === "commit") {
          return async (batch: CommitBatch) => {
            const result = await target.commit(batch);
            if (batch.creates.length > 0) created();
            return result;
          };
        }
        if (prop === "claim") {
          return async (request: ClaimRequest) => {
            if (firstClaim) {
              firstClaim = false;
              await Promise.race([createdOnce, new Promise((r) => setTimeout(r, 500))]);
            }
            return target.claim(request);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as () => unknown).bind(target) : value;
      },
    });
    const engine = await createEngine({ store: slowed, workflows: [steps], logger: { warn() {} } });
    onCleanup(() => engine.close());
    const run = await engine.start(steps, { n: 3 }, { id: "fresh" });
    expect(await run.result()).toBe(6);
    const types = (await engine.journal("fresh")).map((e) => e.type);
    expect(types).not.toContain("run_recovered");
    expect(types.filter((t) => t === "step_succeeded")).toHaveLength(3);
  });
});
