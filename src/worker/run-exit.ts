// How a hosted run left a worker's memory: what the engine's waiters and observers are told.

/** How a hosted run left memory, for whoever waits on it. */
export type RunExit =
  | {
      readonly kind: "ended";
      readonly status: "completed" | "failed" | "cancelled" | "timed_out";
      readonly output: string | null;
      readonly error: string | null;
    }
  | { readonly kind: "paused"; readonly reason: string }
  | { readonly kind: "left" };
