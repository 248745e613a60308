// What a worker tells whoever watches it (logs, traces, metrics): runs entering and leaving
// memory and every entry they append. Watching never changes what a run does: whatever an
// observer throws is caught here, so a broken logger or exporter never breaks a run.
import type { JournalEntry, NewEntry } from "../core/journal.js";
import type { RunRecord } from "../store/store.js";
import type { RunExit } from "./run-exit.js";

/** How a run came into this worker's memory. */
export type HostedHow = "started" | "claimed" | "recovered" | "resumed";

/** Watches the runs of one worker. */
export interface RunObserver {
  /** A run was taken into memory; `journal` is what it recorded before. */
  hosted(
    run: RunRecord,
    journal: readonly JournalEntry[],
    how: HostedHow,
    queueLagMs: number | null,
  ): RunObservation;
  /** A new run was created (by `start`, a schedule or an event trigger). */
  runCreated(workflow: string): void;
  /** A worker-wide warning (the store failing, a lease lost). */
  warn(message: string, fields?: { readonly runId?: string }): void;
}

/** Watches one run while it is in memory. */
export interface RunObservation {
  /** The W3C `traceparent` of this stay in memory, recorded in entries the worker writes so
   * that a later stay links to it; null without tracing. */
  readonly traceparent: string | null;
  /** An entry the run queued for its next commit. */
  appended(entry: NewEntry): void;
  /** A warning about this run. */
  warn(message: string): void;
  /** The run left memory (ended, paused, suspended, lost or handed back). */
  exited(exit: RunExit): void;
}

const silentObservation: RunObservation = {
  traceparent: null,
  appended: () => {},
  warn: () => {},
  exited: () => {},
};

/** Wraps an observer so nothing it throws reaches the worker. */
export function guardedObserver(observer: RunObserver): RunObserver {
  return {
    hosted: (run, journal, how, lag) => {
      try {
        return guardedObservation(observer.hosted(run, journal, how, lag));
      } catch {
        return silentObservation;
      }
    },
    runCreated: (workflow) => swallow(() => observer.runCreated(workflow)),
    warn: (message, fields) => swallow(() => observer.warn(message, fields)),
  };
}

function guardedObservation(o: RunObservation): RunObservation {
  return {
    traceparent: o.traceparent,
    appended: (entry) => swallow(() => o.appended(entry)),
    warn: (message) => swallow(() => o.warn(message)),
    exited: (exit) => swallow(() => o.exited(exit)),
  };
}

function swallow(call: () => void): void {
  try {
    call();
  } catch {
    // An observer that throws loses its line or span, never the run.
  }
}
