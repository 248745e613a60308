// Reading runs back: pages of runs, a run's journal, open approvals, and where a run is and why.
import type { Clock } from "../core/clock.js";
import { InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import { LIST_RUNS_LIMIT_DEFAULT, LIST_RUNS_LIMIT_MAX } from "../core/limits.js";
import { checkRunId } from "../core/text.js";
import { checkName } from "../core/workflow.js";
import type { RunStatus } from "../core/types.js";
import type { Store } from "../store/store.js";
import { explain, type Explanation } from "./explain.js";
import { toPendingApproval, type PendingApproval } from "./messages.js";
import { toJournalRecord, toRunInfo, type JournalRecord, type RunInfo } from "./views.js";

/** Filter of `engine.listRuns`. */
export interface ListRunsOptions {
  workflow?: string;
  status?: RunStatus;
  /** Page size, default 100, at most 1,000. */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
}

/** One page of runs, newest first. */
export async function listRuns(
  store: Store,
  options: ListRunsOptions,
): Promise<{ runs: RunInfo[]; next: string | null }> {
  const limit = options.limit ?? LIST_RUNS_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_RUNS_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `listRuns limit must be a whole number from 1 to ${LIST_RUNS_LIMIT_MAX}, got ${String(limit)}`,
    );
  }
  if (options.workflow !== undefined) checkName(options.workflow, "listRuns workflow");
  const page = await store.listRuns({
    limit,
    ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
  });
  return { runs: page.runs.map((r) => toRunInfo(r)), next: page.next };
}

/** The run's journal, decoded; throws when no run has the id. */
export async function readJournal(store: Store, runId: string): Promise<JournalRecord[]> {
  checkRunId(runId);
  const entries = await store.readJournal(runId);
  if (entries.length === 0 && (await store.getRun(runId)) === null) {
    throw new RunNotFoundError(`no run has the id '${runId}'`);
  }
  return entries.map(toJournalRecord);
}

/** Open approvals, oldest first, of one run or of all. */
export async function listApprovals(
  store: Store,
  options: { runId?: string; limit?: number },
): Promise<PendingApproval[]> {
  const limit = options.limit ?? LIST_RUNS_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_RUNS_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `approvals limit must be a whole number from 1 to ${LIST_RUNS_LIMIT_MAX}`,
    );
  }
  if (options.runId !== undefined) checkRunId(options.runId, "approvals runId");
  const records = await store.listApprovals({
    limit,
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
  });
  return records.map(toPendingApproval);
}

/** Where the run is and why, as of now on `clock`; throws when no run has the id. */
export async function explainRun(store: Store, clock: Clock, runId: string): Promise<Explanation> {
  checkRunId(runId);
  const run = await store.getRun(runId);
  if (run === null) throw new RunNotFoundError(`cannot explain: no run has the id '${runId}'`);
  const [journal, approvals] = await Promise.all([
    store.readJournal(runId),
    store.listApprovals({ limit: LIST_RUNS_LIMIT_MAX, runId }),
  ]);
  return explain(run, journal, approvals, clock.now());
}
