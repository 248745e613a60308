// Where a run is and why, from its row, its journal and its open approvals: a structured
// state and one plain sentence.
import { errorRecord } from "../core/errors.js";
import { SETTLING_TYPES, type JournalEntry } from "../core/journal.js";
import { readEntryData, readEntryDataOf } from "../core/entry-data.js";
import { decodeValue } from "../core/serialize.js";
import type { ApprovalRecord, RunRecord } from "../store/store.js";
import { nameOf, sentenceOf } from "./explain-sentence.js";
import type { RunState } from "./run-state.js";

export { formatDuration } from "./explain-sentence.js";
export type { RunState } from "./run-state.js";

/** A run's state and one sentence about it. */
export interface Explanation {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunRecord["status"];
  readonly state: RunState;
  /** Such as "waiting for approval 'publish' since 2h 3m; times out in 6d 21h". */
  readonly sentence: string;
  /** Other operations in flight besides the one the state describes. */
  readonly alsoPending: number;
}

interface OpenOp {
  readonly position: number;
  readonly key: string;
  readonly kind: "step" | "sleep" | "wait";
  readonly entries: JournalEntry[];
}

/** A journaled error as the code sees it, when it is one. */
const errorIn = (v: unknown): (Error & { status?: unknown; code?: unknown }) | undefined =>
  v instanceof Error ? v : undefined;

/** Explains a run. `approvals` are its open approvals (for decision counts). */
export function explain(
  run: RunRecord,
  journal: readonly JournalEntry[],
  approvals: readonly ApprovalRecord[],
  now: number,
): Explanation {
  const open = openOps(journal);
  const state = stateOf(run, journal, open, approvals, now);
  const named =
    state.kind === "waiting_for_approval"
      ? 1 + state.others.length
      : state.kind === "running" && state.step === null
        ? 0
        : 1;
  const alsoPending = [
    "running",
    "retrying",
    "sleeping",
    "waiting_for_event",
    "waiting_for_signal",
    "waiting_for_approval",
  ].includes(state.kind)
    ? Math.max(0, open.length - named)
    : 0;
  const sentence =
    sentenceOf(state, now) +
    (alsoPending > 0
      ? ` (and ${alsoPending} more operation${alsoPending === 1 ? "" : "s"} pending)`
      : "");
  return {
    runId: run.id,
    workflow: run.workflow,
    status: run.status,
    state,
    sentence,
    alsoPending,
  };
}

function openOps(journal: readonly JournalEntry[]): OpenOp[] {
  const ops = new Map<number, OpenOp>();
  for (const e of journal) {
    if (e.position === null || e.key === null || e.type === "value_recorded") continue;
    if (e.type === "patch_applied") continue;
    // A memory operation commits whole, with its one entry: it is never open.
    if (e.type.startsWith("memory_")) continue;
    const kind = e.type.startsWith("step_")
      ? "step"
      : e.type.startsWith("sleep_")
        ? "sleep"
        : "wait";
    const op = ops.get(e.position) ?? { position: e.position, key: e.key, kind, entries: [] };
    op.entries.push(e);
    ops.set(e.position, op);
    if (SETTLING_TYPES.has(e.type)) ops.delete(e.position);
  }
  // The most recent first: what the run is doing now.
  return [...ops.values()].sort(
    (a, b) =>
      (b.entries[b.entries.length - 1]?.seq ?? 0) - (a.entries[a.entries.length - 1]?.seq ?? 0),
  );
}

function stateOf(
  run: RunRecord,
  journal: readonly JournalEntry[],
  open: OpenOp[],
  approvals: readonly ApprovalRecord[],
  now: number,
): RunState {
  const last = journal[journal.length - 1];
  const at = new Date(run.endedAt ?? run.updatedAt);
  switch (run.status) {
    case "completed":
      return { kind: "completed", at, took: (run.endedAt ?? run.updatedAt) - run.createdAt };
    case "failed": {
      const failed = [...journal].reverse().find((e) => e.type === "step_failed");
      const error = errorIn(
        readEntryDataOf(
          journal.find((e) => e.type === "run_failed"),
          "run_failed",
        )?.error,
      );
      const code = error?.code;
      return {
        kind: "failed",
        at,
        error: error?.message ?? "unknown error",
        errorName: error?.name ?? "Error",
        errorCode: typeof code === "string" ? code : null,
        step: failed?.key ?? null,
        attempts: readEntryDataOf(failed, "step_failed")?.attempts ?? null,
      };
    }
    case "cancelled":
    case "timed_out":
      return {
        kind: run.status,
        at,
        reason: endedReason(
          journal,
          run.status === "cancelled" ? "run_cancelled" : "run_timed_out",
        ),
      };
    case "paused": {
      const paused = readEntryDataOf(
        journal.findLast((e) => e.type === "run_paused"),
        "run_paused",
      );
      const error = errorIn(paused?.error);
      return {
        kind: "paused",
        reason: run.pausedReason ?? paused?.reason ?? "unknown",
        message: error?.message ?? paused?.message ?? "",
        error: error === undefined ? null : errorRecord(error),
      };
    }
    default:
      break;
  }
  if (run.cancelRequested !== null)
    return { kind: "cancelling", reason: run.cancelRequested.reason };
  const op = open[0];
  if (op !== undefined) {
    const waiting = waitState(op, approvals);
    if (waiting?.kind === "waiting_for_approval")
      return withOtherApprovals(waiting, op, open, approvals);
    if (waiting !== null) return waiting;
  }
  if (run.status === "pending") return { kind: "pending", since: new Date(run.updatedAt) };
  const lastStep = [...journal].reverse().find((e) => e.type === "step_succeeded");
  const executing = open.find((o) => o.kind === "step");
  const attempt = executing?.entries.findLast((e) => e.type === "step_attempt_started");
  return {
    kind: "running",
    since: new Date((attempt ?? last)?.at ?? now),
    step: executing === undefined ? null : nameOf(executing.key),
    attempt: readEntryDataOf(attempt, "step_attempt_started")?.attempt ?? null,
    lastStep: lastStep?.key ?? null,
  };
}

function endedReason(
  journal: readonly JournalEntry[],
  type: "run_cancelled" | "run_timed_out",
): string {
  const entry = journal.findLast((e) => e.type === type);
  return readEntryDataOf(entry, type)?.reason ?? "no reason given";
}

/** The approval state, naming the run's other open approvals too (oldest first). */
function withOtherApprovals(
  state: Extract<RunState, { kind: "waiting_for_approval" }>,
  op: OpenOp,
  open: readonly OpenOp[],
  approvals: readonly ApprovalRecord[],
): RunState {
  const others = open
    .filter((o) => o !== op && o.kind === "wait")
    .map((o) => waitState(o, approvals))
    .flatMap((s) => (s?.kind === "waiting_for_approval" ? [s] : []))
    .sort((a, b) => a.since.getTime() - b.since.getTime())
    .map(({ approval, title, since, timesOutAt }) => ({ approval, title, since, timesOutAt }));
  return { ...state, others };
}

function waitState(op: OpenOp, approvals: readonly ApprovalRecord[]): RunState | null {
  const first = op.entries[0] as JournalEntry;
  const latest = op.entries[op.entries.length - 1] as JournalEntry;
  const since = new Date(first.at);
  if (op.kind === "sleep")
    return {
      kind: "sleeping",
      sleep: nameOf(op.key),
      since,
      until: new Date(readEntryData(first, "sleep_started").wakeAt),
    };
  if (op.kind === "step") {
    if (latest.type !== "step_attempt_failed" && latest.type !== "step_verification_failed")
      return null;
    const failure = readEntryData(latest, latest.type);
    const error = errorIn(failure.error);
    const status = error?.status;
    const lastError =
      typeof status === "number" || typeof status === "string"
        ? `a ${String(status)}`
        : `'${(error?.message ?? "an error").slice(0, 80)}'`;
    return {
      kind: "retrying",
      step: nameOf(op.key),
      attempt: failure.attempt + 1,
      attempts: failure.attempts,
      lastError,
      nextTryAt: new Date(failure.retryAt),
    };
  }
  const started = readEntryData(first, "wait_started");
  const timesOutAt = new Date(started.timeoutAt);
  if (started.kind === "event") {
    const values = started.match === undefined ? [] : (JSON.parse(started.match.key) as unknown[]);
    const match =
      started.match === undefined || started.match.paths.length === 0
        ? null
        : Object.fromEntries(started.match.paths.map((p, i) => [p, values[i]]));
    return {
      kind: "waiting_for_event",
      wait: nameOf(op.key),
      event: started.target,
      match,
      since,
      timesOutAt,
    };
  }
  if (started.kind === "signal")
    return { kind: "waiting_for_signal", signal: started.target, since, timesOutAt };
  const record = approvals.find((a) => a.wait.position === op.position);
  const rules =
    record === undefined
      ? null
      : (decodeValue(record.wait.details ?? "{}") as { title: string; quorum: number });
  return {
    kind: "waiting_for_approval",
    approval: started.target,
    title: rules?.title ?? null,
    approvals: record?.decisions.filter((d) => d.approved).length ?? 0,
    quorum: rules?.quorum ?? 1,
    since,
    timesOutAt,
    others: [],
  };
}
