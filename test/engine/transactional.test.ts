// Proves transactional steps on real SQLite: the body's writes and the journal entry commit
// together or not at all, retries leave no trace of rolled-back attempts, steps after them
// commit normally, and a failed group commit hands its runs back instead of losing them.
import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StoreUnavailableError, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { createEngine } from "endure";
import { onCleanup, sqliteEngine, tempDir } from "../helpers.js";

const ledgerRows = (path: string) => {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare("SELECT run_id, amount FROM ledger ORDER BY rowid").all();
  db.close();
  return rows;
};

describe("transactional steps", () => {
  it("commits the body's write with the journal entry, rolls back failed attempts, and goes on", async () => {
    const path = join(tempDir(), "ledger.db");
    const wf = workflow("post", async (ctx, input: { amount: number }) => {
      await ctx.step(
        "schema",
        async ({ tx }) => {
          await tx.execute(
            "CREATE TABLE IF NOT EXISTS ledger (run_id TEXT NOT NULL, amount INTEGER NOT NULL)",
          );
        },
        { transactional: true },
      );
      const posted = await ctx.step(
        "post",
        async ({ tx, attempt }) => {
          await tx.execute("INSERT INTO ledger (run_id, amount) VALUES (?, ?)", [
            ctx.runId,
            input.amount,
          ]);
          if (attempt === 1) throw new Error("bank said no, this once");
          const [row] = await tx.query<{ total: number }>(
            "SELECT sum(amount) AS total FROM ledger WHERE run_id = ?",
            [ctx.runId],
          );
          return row?.total;
        },
        { transactional: true, retries: 2, backoff: { initial: 1 } },
      );
      const after = await Promise.all([ctx.step("a", () => 1), ctx.step("b", () => 2)]);
      return { posted, after };
    });
    const engine = await sqliteEngine({ path, workflows: [wf] });
    const run = await engine.start(wf, { amount: 250 }, { id: "post-1" });
    expect(await run.result()).toEqual({ posted: 250, after: [1, 2] });
    expect(ledgerRows(path)).toEqual([{ run_id: "post-1", amount: 250 }]);
    const journal = await engine.journal(run.id);
    const post = journal.filter((e) => e.key === "post#1").map((e) => e.type);
    expect(post).toEqual([
      "step_attempt_started",
      "step_attempt_failed",
      "step_attempt_started",
      "step_succeeded",
    ]);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
  });

  it("refuses use of the transaction after the body returned", async () => {
    let leaked: { execute(sql: string): Promise<unknown> } | null = null;
    const wf = workflow("leak", async (ctx) => {
      await ctx.step(
        "keep",
        ({ tx }) => {
          leaked = tx;
        },
        { transactional: true },
      );
      return ctx.step("use", async () => {
        try {
          await leaked?.execute("SELECT 1");
          return "used";
        } catch (e) {
          return (e as Error).message;
        }
      });
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, undefined)).result()).toContain("transaction has ended");
  });
});

describe("store faults", () => {
  it("hands back runs whose group commit failed, and finishes them", async () => {
    const store = sqliteStore(join(tempDir(), "faulty.db"), { durability: "process" });
    const commit = store.commit.bind(store);
    let calls = 0;
    store.commit = (batch) => {
      calls++;
      if (calls === 4) return Promise.reject(new StoreUnavailableError("disk hiccup (injected)"));
      return commit(batch);
    };
    const counts = new Map<string, number>();
    const wf = workflow("resilient", async (ctx) => {
      let total = 0;
      for (let i = 0; i < 5; i++) {
        total += await ctx.step("s", ({ stepKey }) => {
          counts.set(stepKey, (counts.get(stepKey) ?? 0) + 1);
          return i;
        });
      }
      return total;
    });
    const warnings: string[] = [];
    const engine = await createEngine({
      store,
      workflows: [wf],
      logger: { warn: (m) => warnings.push(m) },
      worker: { pollInterval: 10 },
    });
    onCleanup(() => engine.close());
    const run = await engine.start(wf, undefined);
    expect(await run.result()).toBe(10);
    expect(
      warnings.some((w) => w.includes("disk hiccup (injected)") && w.includes("handed back")),
    ).toBe(true);
    // The step whose commit failed ran again; every other step ran once.
    expect([...counts.values()].filter((n) => n === 2)).toHaveLength(1);
    expect([...counts.values()].every((n) => n <= 2)).toBe(true);
  });
});
