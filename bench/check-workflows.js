// The workflows of bench/check-scale.js, as a module `endure check --workflows` loads: the
// code a deploy would bring, compatible with the runs in flight.
import { workflow } from "../dist/index.js";

export const order = workflow("order", async (ctx, n) => {
  const quote = await ctx.step("quote", () => ({ n, amount: n * 3 }));
  await ctx.step("reserve", () => quote.amount);
  const paid = await ctx.waitForEvent("paid", {
    event: "order.paid",
    match: { "data.n": n },
    timeout: "30d",
  });
  return paid?.data ?? null;
});
