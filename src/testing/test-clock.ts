// A virtual clock for tests: time moves only when the test says so, and a 30-day wait passes
// in a millisecond.
import type { Clock, TimerHandle } from "../core/clock.js";
import { parseDuration, type Duration } from "../core/duration.js";

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A {@link Clock} whose time only moves with {@link TestClock.advance}. */
export interface TestClock extends Clock {
  /** Moves time forward by `duration`, firing due timers in order, one turn of the event
   * loop apart so that what each timer starts can run. */
  advance(duration: Duration): Promise<void>;
  /** Timers not yet fired. */
  readonly pendingTimers: number;
  /** When the next timer is due (epoch ms), or null when none is pending. */
  nextTimerAt(): number | null;
}

/**
 * Creates a virtual clock starting at `startMs` (epoch milliseconds).
 *
 * @example
 * ```ts
 * const clock = createTestClock();
 * const engine = await createEngine({ store, workflows: [reminder], clock });
 * const run = await engine.start(reminder, {});
 * await clock.advance("7d");
 * await run.result();
 * ```
 */
export function createTestClock(startMs = Date.UTC(2026, 0, 1)): TestClock {
  let now = startMs;
  let seq = 0;
  const timers = new Set<Timer>();
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  const earliest = (until: number): Timer | null => {
    let best: Timer | null = null;
    for (const t of timers) {
      if (
        t.due <= until &&
        (best === null || t.due < best.due || (t.due === best.due && t.seq < best.seq))
      )
        best = t;
    }
    return best;
  };
  return {
    now: () => now,
    setTimer(delayMs: number, fn: () => void): TimerHandle {
      const timer: Timer = { due: now + Math.max(0, delayMs), seq: seq++, fn };
      timers.add(timer);
      if (delayMs <= 0)
        setImmediate(() => {
          if (timers.delete(timer)) fn();
        });
      return { cancel: () => void timers.delete(timer) };
    },
    async advance(duration: Duration): Promise<void> {
      const target = now + parseDuration(duration, "advance duration");
      for (let t = earliest(target); t !== null; t = earliest(target)) {
        timers.delete(t);
        now = Math.max(now, t.due);
        t.fn();
        for (let i = 0; i < 5; i++) await turn();
      }
      now = target;
      for (let i = 0; i < 5; i++) await turn();
    },
    get pendingTimers() {
      return timers.size;
    },
    nextTimerAt: () => earliest(Number.POSITIVE_INFINITY)?.due ?? null,
  };
}
