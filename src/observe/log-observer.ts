// Logs what runs do, one JSON line per fact worth a line, each with the run id, workflow
// and worker (and the step and attempt on step lines). Levels: debug for each step that
// succeeded and each stay that ended in a suspension; info for a run entering memory, a
// step attempt that failed and will be retried, and a run's end; warn for a step that
// failed for good, a paused run, and endure's warnings; error for nothing a run does (only
// endure's own failures).
import type { NewEntry } from "../core/journal.js";
import type { RunRecord } from "../store/store.js";
import type { HostedHow, RunObservation, RunObserver } from "../worker/observer.js";
import type { RunExit } from "../worker/run-host.js";
import { attemptOf, errorFactsOf, failureOf } from "./entry-facts.js";
import type { StructuredLogger } from "./logger.js";

/** A run observer that writes logs. */
export function logObserver(logger: StructuredLogger, workerId: string | null): RunObserver {
  const base = workerId === null ? logger : logger.child({ worker: workerId });
  return {
    hosted: (run, _journal, how, queueLagMs) => new RunLog(base, run, how, queueLagMs),
    runCreated: () => {},
    warn: (message, fields) => base.warn(fields ?? {}, message),
  };
}

const HOSTED_MESSAGES: Record<HostedHow, string> = {
  started: "run started",
  claimed: "run claimed",
  recovered: "run recovered after its worker was lost",
  resumed: "run resumed",
};

class RunLog implements RunObservation {
  readonly traceparent = null;
  private readonly log: StructuredLogger;

  constructor(logger: StructuredLogger, run: RunRecord, how: HostedHow, queueLagMs: number | null) {
    this.log = logger.child({ runId: run.id, workflow: run.workflow });
    this.log.info(
      { how, epoch: run.epoch, ...(queueLagMs === null ? {} : { queueLagMs }) },
      HOSTED_MESSAGES[how],
    );
  }

  appended(entry: NewEntry): void {
    switch (entry.type) {
      case "step_succeeded":
        this.log.debug(this.stepFields(entry), "step succeeded");
        return;
      case "step_attempt_failed":
      case "step_verification_failed":
        this.log.info(
          { ...this.stepFields(entry), error: failureOf(entry) },
          "step attempt failed; it will be retried",
        );
        return;
      case "step_failed":
        this.log.warn({ ...this.stepFields(entry), error: failureOf(entry) }, "step failed");
        return;
      case "run_suspended":
        this.log.debug({}, "run suspended until its wait ends");
        return;
      default:
        return;
    }
  }

  warn(message: string): void {
    this.log.warn({}, message);
  }

  exited(exit: RunExit): void {
    if (exit.kind === "ended") {
      const error = exit.error === null ? {} : { error: errorFactsOf(exit.error) };
      this.log.info({ status: exit.status, ...error }, `run ${exit.status}`);
    } else if (exit.kind === "paused") {
      this.log.warn({ status: "paused", reason: exit.reason }, "run paused");
    }
  }

  private stepFields(entry: NewEntry): { step: string | null; attempt: number | null } {
    return { step: entry.key, attempt: attemptOf(entry) };
  }
}
