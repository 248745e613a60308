import { createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

const onboard = workflow("onboard", async (ctx, input: { email: string }) => {
  const account = await ctx.step("create account", async ({ idempotencyKey }) => {
    // Call your billing API here with idempotencyKey: a retry never creates a second account.
    return { id: `acct-${ctx.runId}`, email: input.email, idempotencyKey };
  });
  await ctx.step(
    "post credit",
    async ({ tx }) => {
      // In the engine's own transaction: the row and the journal entry commit together, once.
      await tx.execute("CREATE TABLE IF NOT EXISTS ledger (account TEXT, amount INTEGER)");
      await tx.execute("INSERT INTO ledger (account, amount) VALUES (?, ?)", [account.id, 100]);
    },
    { transactional: true },
  );
  await ctx.sleep("grace period", "1s"); // durable: a sleep of 3 days costs no memory either
  return ctx.step("send welcome", () => `welcome sent to ${account.email}`, { retries: 5 });
});

const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows: [onboard] });
const run = await engine.start(onboard, { email: "ada@example.com" }, { id: "onboard-ada" });
console.log(await run.result());
await engine.close();
