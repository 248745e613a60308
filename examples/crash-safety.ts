// npx tsx examples/crash-safety.ts: checkCrashSafety finds a step that is not idempotent.
// A checkout charges a card through a payment API. The first version calls the API without
// an idempotency key: a crash after the charge and before its result is journaled charges
// the customer twice on recovery. The fixed version passes the step's idempotency key, which
// the API deduplicates by, and survives a crash at every journal boundary.
import { workflow } from "endure";
import { checkCrashSafety, type CrashSafetyReport } from "endure/testing";

/** A payment API double: charges by key when given one, as real payment APIs do. */
export function createPayments() {
  const charges: Array<{ id: string; orderId: string; amount: number; key: string | null }> = [];
  return {
    charge(orderId: string, amount: number, idempotencyKey?: string): string {
      const seen = charges.find((c) => idempotencyKey !== undefined && c.key === idempotencyKey);
      if (seen !== undefined) return seen.id;
      const id = `ch_${charges.length + 1}`;
      charges.push({ id, orderId, amount, key: idempotencyKey ?? null });
      return id;
    },
    charged(orderId: string): number {
      return charges.filter((c) => c.orderId === orderId).reduce((sum, c) => sum + c.amount, 0);
    },
    clear(): void {
      charges.length = 0;
    },
  };
}

export const payments = createPayments();

type Order = { orderId: string; amount: number };

/** Planted bug: the charge has no idempotency key. */
export const checkoutUnsafe = workflow("checkout-unsafe", async (ctx, order: Order) => {
  await ctx.step("charge card", () => payments.charge(order.orderId, order.amount));
  const charged = await ctx.step("read balance", () => payments.charged(order.orderId));
  await ctx.step("send receipt", () => `receipt for ${charged}`);
  return { charged };
});

/** Fixed: the charge passes the step's idempotency key (stable across crashes). */
export const checkoutSafe = workflow("checkout-safe", async (ctx, order: Order) => {
  await ctx.step("charge card", ({ idempotencyKey }) =>
    payments.charge(order.orderId, order.amount, idempotencyKey),
  );
  const charged = await ctx.step("read balance", () => payments.charged(order.orderId));
  await ctx.step("send receipt", () => `receipt for ${charged}`);
  return { charged };
});

/** Checks both versions; returns their reports. */
export async function main(
  log: (line: string) => void = console.log,
): Promise<{ unsafe: CrashSafetyReport; safe: CrashSafetyReport }> {
  const order = { orderId: "o-1", amount: 30 };
  const reset = () => payments.clear();
  const unsafe = await checkCrashSafety(checkoutUnsafe, order, { reset });
  log(`checkout-unsafe: ${unsafe.ok ? "crash-safe" : "NOT crash-safe"}\n${unsafe.summary}`);
  const safe = await checkCrashSafety(checkoutSafe, order, { reset });
  log(`checkout-safe: ${safe.summary}`);
  return { unsafe, safe };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
