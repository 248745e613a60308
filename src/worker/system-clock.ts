// The real clock: Date.now for dates, and timers measured on the monotonic clock
// (performance.now), with waits longer than Node's timer limit split up.
import type { Clock, TimerHandle } from "../core/clock.js";

/** Longest delay Node's setTimeout honours (about 24.8 days); longer ones fire at once. */
const TIMER_DELAY_MS_MAX = 2_147_483_647;

/**
 * The wall clock for `now()` (journaled times are dates) and the monotonic clock for timers:
 * a delay in a process (a step's timeout, an in-memory sleep, a retry delay) lasts as long
 * as it says when the wall clock is set back or forward meanwhile. Timers do not keep the
 * process alive on their own.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const due = performance.now() + delayMs;
    let timer: NodeJS.Timeout;
    const arm = (ms: number): void => {
      timer = setTimeout(
        () => {
          const left = due - performance.now();
          if (left > 0) arm(left);
          else fn();
        },
        Math.min(Math.max(0, ms), TIMER_DELAY_MS_MAX),
      );
      timer.unref();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
};
