// Proves retry delays are centred on the backoff a step asks for (jitter spreads them both
// ways, never past backoff.max) and that RetryAfterError refuses a delay that is not one.
import { describe, expect, it } from "vitest";
import { isEndureError, RetryAfterError } from "endure";
import { backoffDelayMs, retryPolicyOf } from "../../src/core/retry-policy.js";
import { BACKOFF_JITTER_RATIO } from "../../src/core/limits.js";

describe("retry delays", () => {
  it("centres the jitter on the backoff: a 100 ms initial backoff waits 100 ms on average", () => {
    const policy = retryPolicyOf({ backoff: { initial: 100, max: "1m" } }, "call");
    const units = Array.from({ length: 101 }, (_, i) => i / 101);
    const delays = units.map((u) => backoffDelayMs(policy, 1, u));
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(Math.abs(mean - 100)).toBeLessThanOrEqual(1);
    expect(Math.min(...delays)).toBe(100 * (1 - BACKOFF_JITTER_RATIO));
    expect(Math.max(...delays)).toBeGreaterThan(100);
    expect(Math.max(...delays)).toBeLessThanOrEqual(100 * (1 + BACKOFF_JITTER_RATIO));
  });

  it("never waits longer than backoff.max", () => {
    const policy = retryPolicyOf({ backoff: { initial: "1s", max: "3s" } }, "call");
    for (const u of [0, 0.5, 0.999])
      expect(backoffDelayMs(policy, 10, u)).toBeLessThanOrEqual(3_000);
  });
});

describe("RetryAfterError", () => {
  it.each([["soon"], [-1000], [Number.NaN], [Number.POSITIVE_INFINITY], ["-5s"], [""]])(
    "refuses the delay %j with invalid_argument",
    (delay) => {
      let thrown: unknown = null;
      try {
        new RetryAfterError(delay);
      } catch (e) {
        thrown = e;
      }
      expect(isEndureError(thrown, "invalid_argument")).toBe(true);
      expect((thrown as Error).message).toContain("RetryAfterError delay");
    },
  );

  it("accepts milliseconds and duration strings, giving delayMs", () => {
    expect(new RetryAfterError(1500).delayMs).toBe(1500);
    expect(new RetryAfterError("30s").delayMs).toBe(30_000);
    expect(new RetryAfterError(0).delayMs).toBe(0);
  });
});
