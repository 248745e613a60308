import { describe, expect, it } from "vitest";
import { EPOCH_CACHE_RUNS_MAX, EpochCache } from "../../src/store/epoch-cache.js";

describe("EpochCache", () => {
  it("answers only for the epoch a number was cached under", () => {
    const cache = new EpochCache();
    cache.set("r", 2, 17);
    expect(cache.get("r", 2)).toBe(17);
    expect(cache.get("r", 3)).toBeNull();
    expect(cache.get("other", 2)).toBeNull();
    cache.forget("r");
    expect(cache.get("r", 2)).toBeNull();
  });

  it("holds EPOCH_CACHE_RUNS_MAX runs and empties itself when one more would pass it", () => {
    const cache = new EpochCache();
    for (let i = 0; i < EPOCH_CACHE_RUNS_MAX; i++) cache.set(`r${i}`, 1, i);
    expect(cache.size).toBe(EPOCH_CACHE_RUNS_MAX);
    // A run already held updates in place at the limit.
    cache.set("r0", 1, 99);
    expect(cache.size).toBe(EPOCH_CACHE_RUNS_MAX);
    expect(cache.get("r0", 1)).toBe(99);
    expect(cache.get(`r${EPOCH_CACHE_RUNS_MAX - 1}`, 1)).toBe(EPOCH_CACHE_RUNS_MAX - 1);
    // A new run past the limit starts over: lookups miss, and the stores read the database.
    cache.set("new", 1, 5);
    expect(cache.size).toBe(1);
    expect(cache.get("r0", 1)).toBeNull();
    expect(cache.get("new", 1)).toBe(5);
  });
});
