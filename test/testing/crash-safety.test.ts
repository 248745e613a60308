// Proves checkCrashSafety finds a step that is not idempotent: the example's checkout without
// an idempotency key charges twice when a crash lands between the charge and its commit, and
// the fixed checkout passes at every crash point; waits end as the test answers them, or time out.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { checkCrashSafety } from "endure/testing";
import { main } from "../../examples/crash-safety.js";

describe("checkCrashSafety", () => {
  it("finds the planted non-idempotent charge and passes the fixed checkout", async () => {
    const lines: string[] = [];
    const { unsafe, safe } = await main((l) => lines.push(l));
    expect(unsafe.ok).toBe(false);
    expect(unsafe.problems.length).toBeGreaterThan(0);
    expect(unsafe.problems.every((p) => p.kind === "outcome_differs")).toBe(true);
    expect(unsafe.problems[0]?.message).toContain('{"charged":60}');
    expect(safe.ok).toBe(true);
    expect(safe.problems).toEqual([]);
    expect(safe.crashPoints).toBeGreaterThanOrEqual(4);
    expect(safe.output).toEqual({ charged: 30 });
    expect(lines[0]).toContain("NOT crash-safe");
  });

  it("answers waits as told, or lets them time out", async () => {
    const gate = workflow("gate", async (ctx) => {
      const ok = await ctx.approval("go", { title: "Go?" });
      const e = await ctx.waitForEvent("ping", { event: "ping" });
      return { approved: ok.approved, data: e?.data };
    });
    const answered = await checkCrashSafety(gate, undefined, {
      answer: (w) => (w.kind === "approval" ? true : { n: 1 }),
    });
    expect(answered.ok).toBe(true);
    expect(answered.output).toEqual({ approved: true, data: { n: 1 } });
    // Unanswered, waits time out at once on the virtual clock.
    const unanswered = await checkCrashSafety(gate, undefined);
    expect(unanswered.ok).toBe(true);
    expect(unanswered.output).toEqual({ approved: false, data: undefined });
  });
});
