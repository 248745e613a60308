// Reading runs back: pages of runs, a run's journal, open approvals, and where a run is and why.
import type { Clock } from "../core/clock.js";
import { supersededEntries } from "../core/retry-journal.js";
import { latestSegment, segmentNumbers } from "../core/segments.js";
import { InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import {
  JOURNAL_PAGE_LIMIT_DEFAULT,
  JOURNAL_PAGE_LIMIT_MAX,
  LIST_RUNS_LIMIT_DEFAULT,
  LIST_RUNS_LIMIT_MAX,
  RUN_ID_TEXT_LENGTH_MAX,
} from "../core/limits.js";
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
  /** Runs created at or after this time. */
  createdAfter?: Date | number;
  /** Runs created before this time. */
  createdBefore?: Date | number;
  /** Runs whose id contains this text (case-sensitive). */
  idContains?: string;
  /** Children of this run (`ctx.invoke`, `ctx.startChild`, `ctx.map` with `child: true`). */
  parentId?: string;
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
  const idContains = options.idContains;
  if (
    idContains !== undefined &&
    (typeof idContains !== "string" ||
      idContains.length === 0 ||
      idContains.length > RUN_ID_TEXT_LENGTH_MAX)
  ) {
    throw new InvalidArgumentError(
      `listRuns idContains must be a non-empty string of at most ${RUN_ID_TEXT_LENGTH_MAX} characters`,
    );
  }
  if (options.parentId !== undefined) checkRunId(options.parentId, "listRuns parentId");
  const createdAfter = instantOf(options.createdAfter, "createdAfter");
  const createdBefore = instantOf(options.createdBefore, "createdBefore");
  const page = await store.listRuns({
    limit,
    ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(createdAfter !== undefined ? { createdAfter } : {}),
    ...(createdBefore !== undefined ? { createdBefore } : {}),
    ...(idContains !== undefined ? { idContains } : {}),
    ...(options.parentId !== undefined ? { parentId: options.parentId } : {}),
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
  });
  return { runs: page.runs.map((r) => toRunInfo(r)), next: page.next };
}

function instantOf(value: Date | number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms))
    throw new InvalidArgumentError(`listRuns ${what} must be a Date or epoch milliseconds`);
  return ms;
}

/** One page of a run's journal: entries from seq `from` on, and the seq of the next page. */
export interface JournalPage {
  readonly entries: JournalRecord[];
  /** The `from` of the next page, or null when this page reached the end. */
  readonly next: number | null;
}

/** Up to `limit` entries of the run's journal from seq `from` (default 1). */
export async function readJournalPage(
  store: Store,
  runId: string,
  options: { from?: number; limit?: number },
): Promise<JournalPage> {
  const from = options.from ?? 1;
  const limit = options.limit ?? JOURNAL_PAGE_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(from) || from < 0)
    throw new InvalidArgumentError(`journal from must be a whole number, got ${String(from)}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > JOURNAL_PAGE_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `journal limit must be a whole number from 1 to ${JOURNAL_PAGE_LIMIT_MAX}, got ${String(limit)}`,
    );
  }
  // The store reads a journal whole (replay needs it so); a page is cut from it here.
  const all = await readJournal(store, runId);
  const rest = all.filter((e) => e.seq >= from);
  const entries = rest.slice(0, limit);
  const last = entries[entries.length - 1];
  return { entries, next: rest.length > limit && last !== undefined ? last.seq + 1 : null };
}

/** The run's journal, decoded; throws when no run has the id. */
export async function readJournal(store: Store, runId: string): Promise<JournalRecord[]> {
  checkRunId(runId);
  const entries = await store.readJournal(runId);
  if (entries.length === 0 && (await store.getRun(runId)) === null) {
    throw new RunNotFoundError(`no run has the id '${runId}'`);
  }
  const segments = segmentNumbers(entries);
  // A rewind supersedes entries of its own segment only.
  const superseded = new Set<number>();
  let from = 0;
  for (let i = 1; i <= entries.length; i++) {
    if (i < entries.length && segments[i] === segments[from]) continue;
    for (const seq of supersededEntries(entries.slice(from, i))) superseded.add(seq);
    from = i;
  }
  return entries.map((e, i) => toJournalRecord(e, superseded.has(e.seq), segments[i]));
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
  // Earlier journal segments are history: where the run is now is in its newest one.
  return explain(run, latestSegment(journal), approvals, clock.now());
}
