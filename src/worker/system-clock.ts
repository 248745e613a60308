// The real clock: Date.now and setTimeout, with waits longer than Node's timer limit split up.
import type { Clock, TimerHandle } from "../core/clock.js";

/** Longest delay Node's setTimeout honours (about 24.8 days); longer ones fire at once. */
const TIMER_DELAY_MS_MAX = 2_147_483_647;

/** The wall clock. Timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const due = Date.now() + delayMs;
    let timer: NodeJS.Timeout;
    const arm = (ms: number): void => {
      timer = setTimeout(
        () => {
          const left = due - Date.now();
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
