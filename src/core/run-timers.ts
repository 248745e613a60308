// Deterministic: a run's in-memory timers, one per operation position, set on the run's clock;
// the earliest is when an idle run next needs to wake.
import type { TimerHandle } from "./clock.js";
import type { RunPort } from "./run-port.js";

interface Timer {
  readonly wakeAt: number;
  handle: TimerHandle | null;
}

/** The timers of one run. */
export class RunTimers {
  private readonly timers = new Map<number, Timer>();

  constructor(private readonly port: Pick<RunPort, "clock" | "changed">) {}

  get size(): number {
    return this.timers.size;
  }

  /** The earliest wake-up (Infinity when there is no timer). */
  earliest(): number {
    let wakeAt = Infinity;
    for (const t of this.timers.values()) wakeAt = Math.min(wakeAt, t.wakeAt);
    return wakeAt;
  }

  /** Resolves at `wakeAt` on the run's clock, unless cancelled first (then never). */
  wait(position: number, wakeAt: number): Promise<void> {
    return new Promise((resolve) => {
      const timer: Timer = { wakeAt, handle: null };
      const fire = (): void => {
        if (this.timers.get(position) !== timer) return;
        this.timers.delete(position);
        resolve();
      };
      this.timers.set(position, timer);
      timer.handle = this.port.clock.setTimer(Math.max(0, wakeAt - this.port.clock.now()), fire);
      this.port.changed();
    });
  }

  cancel(position: number): void {
    this.timers.get(position)?.handle?.cancel();
    this.timers.delete(position);
  }

  /** Cancels every timer. */
  clear(): void {
    for (const t of this.timers.values()) t.handle?.cancel();
    this.timers.clear();
  }
}
