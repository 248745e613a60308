// Deterministic: cancelling a run: the error its abandoned work sees, and the cleanup
// registered with `onCancel`, run newest first, whose failures are kept rather than thrown.
import { ensureError, RunCancelledError, RunTimedOutError } from "./errors.js";
import type { Cancellation } from "./types.js";

/** Cleanup registered with `ctx.onCancel`. */
export type Cleanup = (cancellation: Cancellation) => Promise<void> | void;

/** What running bodies are aborted with, and what the run's outcome records. */
export function cancellationError(runId: string, cancellation: Cancellation): Error {
  return cancellation.kind === "timed_out"
    ? new RunTimedOutError(`run ${runId} timed out: ${cancellation.reason}`)
    : new RunCancelledError(`run ${runId} was cancelled: ${cancellation.reason}`);
}

/** Runs `cleanups` newest first, each after the one before; returns the messages of failures. */
export async function runCleanups(
  cleanups: readonly Cleanup[],
  cancellation: Cancellation,
): Promise<string[]> {
  const failures: string[] = [];
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup(cancellation);
    } catch (e) {
      failures.push(ensureError(e).message);
    }
  }
  return failures;
}
