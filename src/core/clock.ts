// Deterministic: the one door through which the engine reads time and sets timers.

/** A cancellable timer made by a {@link Clock}. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The engine's only source of time and timers. Tests pass a virtual clock (see
 * `endure/testing`) so that a 30-day wait passes in a millisecond.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once, `delayMs` from now on this clock. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}
