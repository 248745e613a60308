// Changing a run from outside: cancelling it, and making a paused run runnable again. The
// store decides; this engine's worker is told when it executes the run, else woken.
import type { Clock } from "../core/clock.js";
import { entryData } from "../core/entry-data.js";
import {
  InvalidArgumentError,
  RunCancelledError,
  RunFinishedError,
  RunNotFoundError,
} from "../core/errors.js";
import type { NewEntry } from "../core/journal.js";
import { COMMENT_LENGTH_MAX, LABEL_LENGTH_MAX } from "../core/limits.js";
import { encodeValue } from "../core/serialize.js";
import { checkRunId, checkText } from "../core/text.js";
import type { Store } from "../store/store.js";
import type { RunExit } from "../worker/run-host.js";
import type { Worker } from "../worker/worker.js";
import { listVersions, type Registry } from "./registry.js";
import { toRunInfo, type RunInfo } from "./views.js";

/** The parts of an engine changing a run needs. */
export interface AdminParts {
  readonly store: Store;
  readonly clock: Clock;
  readonly worker: Worker | null;
  /** Every registered version, by workflow name. */
  readonly registry: Registry;
}

/**
 * Cancels the run, or asks whoever executes it to; a run that ended is returned unchanged.
 * `exited` hears of a run the store cancelled at once (no worker was executing it).
 */
export async function cancelRun(
  parts: AdminParts,
  runId: string,
  reason: string,
  exited: (runId: string, exit: RunExit) => void,
  by?: string,
): Promise<RunInfo> {
  checkRunId(runId);
  checkText(reason, "cancel reason", COMMENT_LENGTH_MAX);
  if (by !== undefined) checkText(by, "cancel by", LABEL_LENGTH_MAX);
  const error = encodeValue(
    new RunCancelledError(`run ${runId} was cancelled: ${reason}`),
    "cancel error",
  );
  const entry: NewEntry = {
    type: "run_cancelled",
    at: parts.clock.now(),
    position: null,
    key: null,
    data: entryData.run_cancelled({ reason }),
  };
  const cancellation = { reason, kind: "cancelled" as const, ...(by === undefined ? {} : { by }) };
  const result = await parts.store.cancel(runId, { cancellation, entry, error }, parts.clock.now());
  if (result.kind === "not_found")
    throw new RunNotFoundError(`cannot cancel: no run has the id '${runId}'`);
  if (result.kind === "requested") {
    if (parts.worker?.holds(runId) === true) parts.worker.cancelLocal(runId, cancellation);
    else parts.worker?.kick();
  }
  if (result.kind === "cancelled") exited(runId, { kind: "left" });
  return toRunInfo(result.run);
}

/** Makes the paused run runnable again; throws when it is not paused. */
export async function resumeRun(
  parts: AdminParts,
  runId: string,
  options: { version?: string | null } = {},
): Promise<RunInfo> {
  checkRunId(runId);
  const { version } = options;
  if (version !== undefined && version !== null)
    checkText(version, "resume version", LABEL_LENGTH_MAX);
  const entry: NewEntry = {
    type: "run_resumed",
    at: parts.clock.now(),
    position: null,
    key: null,
    data: entryData.run_resumed({ by: "request", ...(version === undefined ? {} : { version }) }),
  };
  if (version !== undefined) {
    const run = await parts.store.getRun(runId);
    const versions = run === null ? undefined : parts.registry.versions.get(run.workflow);
    if (run !== null && versions !== undefined && !versions.has(version)) {
      throw new InvalidArgumentError(
        `cannot resume run ${runId} on version ${version === null ? "(none)" : `'${version}'`} ` +
          `of workflow '${run.workflow}': this engine registers versions ${listVersions(versions)}; ` +
          "name one of them",
      );
    }
  }
  const pin = version === undefined ? {} : { version };
  const result = await parts.store.resume(runId, entry, parts.clock.now(), pin);
  if (result.kind === "not_found")
    throw new RunNotFoundError(`cannot resume: no run has the id '${runId}'`);
  if (result.kind === "not_paused") {
    throw new InvalidArgumentError(
      `run ${runId} is ${result.run.status}, not paused; only paused runs can be resumed`,
    );
  }
  parts.worker?.kick();
  return toRunInfo(result.run);
}

/**
 * Makes the failed run pending again: replay answers its finished steps from the journal and
 * runs the step that failed again, with fresh attempts. Throws when the run has not failed.
 */
export async function retryRun(parts: AdminParts, runId: string, by: string): Promise<RunInfo> {
  const entry: NewEntry = {
    type: "run_retried",
    at: parts.clock.now(),
    position: null,
    key: null,
    data: entryData.run_retried({ by }),
  };
  const result = await parts.store.retry(runId, entry, parts.clock.now());
  if (result.kind === "not_found")
    throw new RunNotFoundError(`cannot retry: no run has the id '${runId}'`);
  if (result.kind === "not_paused") {
    throw new RunFinishedError(
      `run ${runId} is ${result.run.status}, not failed; only failed runs can be retried (resume a paused run instead)`,
    );
  }
  parts.worker?.kick();
  return toRunInfo(result.run);
}
