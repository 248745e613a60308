// Proves the flow-control options are checked at the edges of their limits with typed
// errors (priorities, concurrency limits and keys, rate limits), that the token bucket
// behind rate limits allows a full bucket at once and then paces (so that a window of one
// period can see up to twice the limit after an idle spell, and never more than
// limit x (1 + window / period) units), and that bad options reach
// users as clear errors from workflow(), engine.start and the failing step.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isEndureError, limits, workflow } from "endure";
import { concurrencyKeyOf, priorityOf, rateLimitOf } from "../../src/core/flow-control.js";
import { reserveUnits } from "../../src/store/flow-control.js";
import { sqliteEngine } from "../helpers.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isEndureError(e) ? e.code : `not an endure error: ${String(e)}`;
  }
  return undefined;
}

const noop = async () => null;

describe("flow-control limits", () => {
  it("accepts priorities from PRIORITY_MIN to PRIORITY_MAX, whole numbers only", () => {
    expect(priorityOf(limits.PRIORITY_MAX, 0, "p")).toBe(1_000);
    expect(priorityOf(limits.PRIORITY_MIN, 0, "p")).toBe(-1_000);
    expect(priorityOf(undefined, 7, "p")).toBe(7);
    expect(codeOf(() => priorityOf(limits.PRIORITY_MAX + 1, 0, "p"))).toBe("invalid_argument");
    expect(codeOf(() => priorityOf(limits.PRIORITY_MIN - 1, 0, "p"))).toBe("invalid_argument");
    expect(codeOf(() => priorityOf(1.5, 0, "p"))).toBe("invalid_argument");
    expect(codeOf(() => workflow("w", noop, { priority: 1_001 }))).toBe("invalid_argument");
  });

  it("accepts concurrency limits from 1 to CONCURRENCY_LIMIT_MAX and key functions only", () => {
    const max = limits.CONCURRENCY_LIMIT_MAX;
    expect(workflow("w", noop, { concurrency: { limit: max } }).options.concurrency?.limit).toBe(
      max,
    );
    expect(codeOf(() => workflow("w", noop, { concurrency: { limit: max + 1 } }))).toBe(
      "invalid_argument",
    );
    expect(codeOf(() => workflow("w", noop, { concurrency: { limit: 0 } }))).toBe(
      "invalid_argument",
    );
    const notAFunction = { limit: 1, key: "tenant" } as unknown as { limit: number };
    expect(codeOf(() => workflow("w", noop, { concurrency: notAFunction }))).toBe(
      "invalid_argument",
    );
  });

  it("takes concurrency keys of up to CONCURRENCY_KEY_LENGTH_MAX characters", () => {
    const n = limits.CONCURRENCY_KEY_LENGTH_MAX;
    const byName = { limit: 1, key: (input: string) => input };
    expect(concurrencyKeyOf(byName, "k".repeat(n), "w")).toHaveLength(n);
    expect(codeOf(() => concurrencyKeyOf(byName, "k".repeat(n + 1), "w"))).toBe("invalid_argument");
    expect(concurrencyKeyOf({ limit: 1 }, "ignored", "w")).toBe("");
    expect(concurrencyKeyOf(undefined, "ignored", "w")).toBeNull();
    const numeric = { limit: 1, key: () => 42 as unknown as string };
    expect(codeOf(() => concurrencyKeyOf(numeric, null, "w"))).toBe("invalid_argument");
  });

  it("checks rate limits: period, limit, units and key at their edges", () => {
    const ok = { key: "model", limit: 10, period: limits.RATE_LIMIT_PERIOD_MS_MIN };
    expect(rateLimitOf(ok, "s")).toEqual({ key: "model", units: 1, limit: 10, periodMs: 1_000 });
    expect(rateLimitOf(undefined, "s")).toBeNull();
    const bad = (patch: object) => codeOf(() => rateLimitOf({ ...ok, ...patch }, "s"));
    expect(bad({ period: limits.RATE_LIMIT_PERIOD_MS_MIN - 1 })).toBe("invalid_argument");
    expect(rateLimitOf({ ...ok, period: limits.RATE_LIMIT_PERIOD_MS_MAX }, "s")?.periodMs).toBe(
      limits.RATE_LIMIT_PERIOD_MS_MAX,
    );
    expect(bad({ period: limits.RATE_LIMIT_PERIOD_MS_MAX + 1 })).toBe("invalid_argument");
    expect(rateLimitOf({ ...ok, units: 10 }, "s")?.units).toBe(10);
    expect(bad({ units: 10.5 })).toBe("invalid_argument");
    expect(bad({ units: 0 })).toBe("invalid_argument");
    expect(bad({ limit: limits.RATE_LIMIT_UNITS_MAX * 2 })).toBe("invalid_argument");
    expect(bad({ limit: 0 })).toBe("invalid_argument");
    expect(bad({ key: "" })).toBe("invalid_argument");
    expect(rateLimitOf({ ...ok, key: "k".repeat(limits.RATE_LIMIT_KEY_LENGTH_MAX) }, "s")).not.toBe(
      null,
    );
    expect(bad({ key: "k".repeat(limits.RATE_LIMIT_KEY_LENGTH_MAX + 1) })).toBe("invalid_argument");
  });

  it("reserves from a token bucket: a full bucket at once, then one unit per period/limit", () => {
    let tat: number | null = null;
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = reserveUnits(tat, 0, 1, 3, 900);
      tat = r.tatMs;
      waits.push(r.grantedAtMs);
    }
    expect(waits).toEqual([0, 0, 0, 300, 600, 900]);
    const later = reserveUnits(tat, 10_000, 3, 3, 900);
    expect(later.grantedAtMs).toBe(10_000);
  });

  it("lets up to twice the limit through within one period after an idle spell, not more", () => {
    // 10 per second: 10 at once from a full bucket, then one every 100 ms.
    let tat: number | null = null;
    const granted: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = reserveUnits(tat, 0, 1, 10, 1_000);
      tat = r.tatMs;
      granted.push(r.grantedAtMs);
    }
    const within = (from: number, to: number) => granted.filter((t) => t >= from && t <= to).length;
    expect(within(0, 999)).toBe(19); // the full bucket and 9 refilled units
    expect(within(0, 1_000)).toBe(20); // a closed second: twice the limit
    expect(within(1_000, 1_999)).toBe(10); // after the burst: the limit per period
    expect(within(1, 1_000)).toBe(10);
  });

  it("never grants more than limit x (1 + window / period) in any window", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 4 })), {
          minLength: 1,
          maxLength: 60,
        }),
        (limit, periodMs, arrivals) => {
          let now = 0;
          let tat: number | null = null;
          const grants: Array<{ at: number; units: number }> = [];
          for (const [gap, want] of arrivals) {
            now += gap;
            const units = Math.min(want, limit);
            const r = reserveUnits(tat, now, units, limit, periodMs);
            expect(r.grantedAtMs).toBeGreaterThanOrEqual(now);
            tat = r.tatMs;
            grants.push({ at: r.grantedAtMs, units });
          }
          for (const a of grants) {
            for (const b of grants) {
              if (b.at < a.at) continue;
              const sum = grants
                .filter((g) => g.at >= a.at && g.at <= b.at)
                .reduce((n, g) => n + g.units, 0);
              expect(sum).toBeLessThanOrEqual(limit * (1 + (b.at - a.at) / periodMs) + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("flow-control errors reach users", () => {
  it("refuses a start with an out-of-range priority, storing nothing", async () => {
    const wf = workflow("prioritized", noop);
    const engine = await sqliteEngine({ workflows: [wf] });
    const error = await engine.start(wf, null, { id: "p", priority: 5_000 }).catch((e) => e);
    expect(isEndureError(error, "invalid_argument")).toBe(true);
    expect(await engine.getRun("p")).toBeNull();
  });

  it("fails a step whose rate limit is malformed, naming the step", async () => {
    const wf = workflow("bad-rate", async (ctx) =>
      ctx.step("call", () => 1, { rateLimit: { key: "m", limit: 2, period: "1s", units: 3 } }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, null);
    const error = await run.result().catch((e) => e);
    expect(isEndureError(error, "invalid_argument")).toBe(true);
    expect(error.message).toContain("step 'call' rateLimit.units");
  });
});
