// Proves by random workflow shapes (fast-check, seed printed) that a crash at any journal
// boundary gives the outcome of the uninterrupted run: sequences of steps, parallel steps,
// sleeps, waits and failing steps, each checked by checkCrashSafety. (Randomness is left out:
// a value not yet recorded when the crash lands is legitimately drawn anew.)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { workflow, type WorkflowContext } from "endure";
import { checkCrashSafety } from "endure/testing";
import { propertySeed } from "./seed.js";

type Op =
  | { kind: "step"; value: number }
  | { kind: "parallel"; values: number[] }
  | { kind: "sleep"; ms: number }
  | { kind: "signal" }
  | { kind: "fails"; retries: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("step" as const), value: fc.integer({ min: 0, max: 99 }) }),
  fc.record({
    kind: fc.constant("parallel" as const),
    values: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("sleep" as const), ms: fc.integer({ min: 1, max: 86_400_000 }) }),
  fc.record({ kind: fc.constant("signal" as const) }),
  fc.record({ kind: fc.constant("fails" as const), retries: fc.integer({ min: 0, max: 2 }) }),
);

async function perform(ctx: WorkflowContext, ops: readonly Op[]): Promise<unknown[]> {
  const trace: unknown[] = [];
  for (const [i, o] of ops.entries()) {
    if (o.kind === "step") trace.push(await ctx.step(`s${i}`, () => o.value * 2));
    else if (o.kind === "parallel")
      trace.push(await Promise.all(o.values.map((v, j) => ctx.step(`p${i}.${j}`, () => v + j))));
    else if (o.kind === "sleep") await ctx.sleep(`z${i}`, o.ms);
    else if (o.kind === "signal") trace.push((await ctx.waitForSignal(`g${i}`))?.data ?? null);
    else
      trace.push(
        await ctx
          .step(
            `f${i}`,
            () => {
              throw new Error(`boom ${i}`);
            },
            { retries: o.retries, backoff: { initial: 1, max: 1 } },
          )
          .catch((e: Error) => e.message),
      );
  }
  return trace;
}

describe("random workflow shapes under crashes", () => {
  it("end as the uninterrupted run does, wherever the crash lands", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const shape = workflow("shape", (ctx) => perform(ctx, ops));
        const report = await checkCrashSafety(shape, undefined, {
          answer: (w) => (w.kind === "signal" ? { from: w.key } : null),
        });
        expect(report.problems, report.summary).toEqual([]);
        expect(report.outcome).toBe("completed");
      }),
      { seed: propertySeed("crash shapes"), numRuns: 60 },
    );
  }, 120_000);
});
