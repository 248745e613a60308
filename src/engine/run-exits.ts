// Waiting for runs to end: listeners on the exits this engine's worker announces, and the wait
// for a run's result, which reads the store with backoff for runs executing elsewhere.
import { EngineClosedError, RunNotFoundError, RunPausedError } from "../core/errors.js";
import { readEntryDataOf } from "../core/entry-data.js";
import { RESULT_POLL_MS_MAX } from "../core/limits.js";
import { TERMINAL_STATUSES } from "../core/types.js";
import type { RunRecord, Store } from "../store/store.js";
import type { RunExit } from "../worker/run-host.js";
import type { Worker } from "../worker/worker.js";
import { outcomeOf } from "./views.js";

/** A listener on a run's next exit: wait for it (or a timeout), or stop listening. */
export interface ExitListener {
  wait(ms: number): Promise<RunExit | null>;
  cancel(): void;
}

/** Listeners on the exits of runs, by run id. */
export class RunExits {
  private readonly waiters = new Map<string, Set<(exit: RunExit) => void>>();

  /** Listens from now on for the run's next exit; a wait ends early when `signal` aborts. */
  next(runId: string, signal?: AbortSignal): ExitListener {
    let set = this.waiters.get(runId);
    if (set === undefined) this.waiters.set(runId, (set = new Set()));
    const waiters = set;
    let resolve: (exit: RunExit | null) => void = () => {};
    let got: RunExit | null | undefined;
    const listener = (exit: RunExit): void => {
      got = exit;
      resolve(exit);
    };
    waiters.add(listener);
    const cancel = (): void => {
      waiters.delete(listener);
      if (waiters.size === 0 && this.waiters.get(runId) === waiters) this.waiters.delete(runId);
    };
    const wait = (ms: number): Promise<RunExit | null> => {
      if (got !== undefined) {
        cancel();
        return Promise.resolve(got);
      }
      return new Promise((r) => {
        const stop = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", stop);
          r(null);
        };
        const timer = setTimeout(stop, ms);
        signal?.addEventListener("abort", stop, { once: true });
        resolve = (exit) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", stop);
          r(exit);
        };
      }).finally(cancel) as Promise<RunExit | null>;
    };
    return { wait, cancel };
  }

  /** Tells the run's listeners it exited. */
  notify(runId: string, exit: RunExit): void {
    const waiters = this.waiters.get(runId);
    if (waiters === undefined) return;
    for (const w of [...waiters]) w(exit);
  }

  /** Tells every listener its run left (the engine is closing). */
  leaveAll(): void {
    for (const waiters of this.waiters.values()) for (const w of waiters) w({ kind: "left" });
  }
}

/** What waiting for a result needs from the engine. */
export interface ResultParts {
  readonly store: Store;
  readonly worker: Worker | null;
}

/**
 * The run's output once it ends, or its error thrown. A run that pauses rejects with a
 * {@link RunPausedError} whose `cause` is what paused it; after a resume, waiting again works.
 * Listens on `exits` for runs this engine executes; `closed()` is true once the engine closes.
 */
export async function waitForResult<O>(
  parts: ResultParts,
  exits: RunExits,
  closed: () => boolean,
  runId: string,
  signal?: AbortSignal,
): Promise<O> {
  let delayMs = 10;
  for (;;) {
    if (closed()) throw new EngineClosedError(`the engine closed while waiting for run ${runId}`);
    signal?.throwIfAborted();
    const exit = exits.next(runId, signal);
    if (parts.worker?.holds(runId) === true) {
      // Executing here: its exit will be announced, no need to read the store first.
      const got = await exit.wait(RESULT_POLL_MS_MAX);
      if (got?.kind === "ended") return outcomeOf<O>(got.status, got.output, got.error);
      if (got?.kind === "paused") throw await pausedError(parts.store, runId);
      continue;
    }
    let run: RunRecord | null;
    try {
      run = await parts.store.getRun(runId);
    } catch (e) {
      exit.cancel();
      throw e;
    }
    if (run === null) {
      exit.cancel();
      throw new RunNotFoundError(`no run has the id '${runId}'`);
    }
    if (TERMINAL_STATUSES.has(run.status)) {
      exit.cancel();
      return outcomeOf<O>(run.status, run.output, run.error);
    }
    if (run.status === "paused") {
      exit.cancel();
      throw await pausedError(parts.store, runId);
    }
    const local = parts.worker?.holds(runId) ?? false;
    const got = await exit.wait(local ? RESULT_POLL_MS_MAX : delayMs);
    if (got?.kind === "ended") return outcomeOf<O>(got.status, got.output, got.error);
    if (got?.kind === "paused") throw await pausedError(parts.store, runId);
    if (got === null) delayMs = Math.min(delayMs * 2, RESULT_POLL_MS_MAX);
  }
}

/** The error a waiting caller gets for a paused run: why, and the error that paused it. */
export async function pausedError(store: Store, runId: string): Promise<RunPausedError> {
  const journal = await store.readJournal(runId);
  const entry = journal.findLast((e) => e.type === "run_paused");
  const paused = readEntryDataOf(entry, "run_paused");
  const error = paused?.error instanceof Error ? paused.error : undefined;
  const reason = paused?.reason ?? "unknown";
  const why = error?.message ?? paused?.message ?? "no reason was recorded";
  return new RunPausedError(
    `run ${runId} is paused (${reason}): ${why} (await result() again to wait for it once it goes on)`,
    { runId, reason, ...(error !== undefined ? { cause: error } : {}) },
  );
}
