// Proves the real clock measures in-process durations (step timeouts, in-memory sleeps, retry
// delays) on a monotonic clock: a timer fires after its delay even when the wall clock jumps
// back an hour or forward a day while it is armed.
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/worker/system-clock.js";

const fired = (delayMs: number, jump: () => void): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    systemClock.setTimer(delayMs, () => resolve(performance.now() - started));
    jump();
  });

describe("the system clock's timers", () => {
  afterEach(() => vi.restoreAllMocks());

  it("fires after its delay when the wall clock jumps back an hour", async () => {
    const real = Date.now.bind(Date);
    const elapsed = await Promise.race([
      fired(100, () => vi.spyOn(Date, "now").mockImplementation(() => real() - 3_600_000)),
      new Promise<number>((r) => setTimeout(() => r(-1), 5_000)),
    ]);
    expect(elapsed, "the timer followed the wall clock back").toBeGreaterThanOrEqual(90);
  });

  it("does not fire early when the wall clock jumps forward a day", async () => {
    const real = Date.now.bind(Date);
    const elapsed = await fired(300, () =>
      vi.spyOn(Date, "now").mockImplementation(() => real() + 86_400_000),
    );
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });

  it("still reads the wall clock for now(): journaled times are dates", () => {
    vi.spyOn(Date, "now").mockReturnValue(1_000);
    expect(systemClock.now()).toBe(1_000);
  });
});
