// Proves the claim loop's backoff while the store fails: it starts at twice the poll
// interval, doubles with each failure in a row, and stops growing at STORE_BACKOFF_MS_MAX.
import { describe, expect, it } from "vitest";
import { STORE_BACKOFF_MS_MAX, storeBackoffMs } from "../../src/worker/worker.js";

describe("backoff while the store fails", () => {
  it("doubles from twice the poll interval up to STORE_BACKOFF_MS_MAX", () => {
    expect([1, 2, 3, 4].map((n) => storeBackoffMs(200, n))).toEqual([400, 800, 1_600, 3_200]);
    expect(storeBackoffMs(200, 5)).toBe(STORE_BACKOFF_MS_MAX);
    expect(storeBackoffMs(2_500, 1)).toBe(STORE_BACKOFF_MS_MAX);
    expect(storeBackoffMs(200, 10_000)).toBe(STORE_BACKOFF_MS_MAX);
  });
});
