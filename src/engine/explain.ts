// Where a run is and why, from its row, its journal and its open approvals: a structured
// state and one plain sentence.
import type { JournalEntry } from "../core/journal.js";
import { decodeValue } from "../core/serialize.js";
import type { ApprovalRecord, RunRecord } from "../store/store.js";

/** A run's state, for programs. */
export type RunState =
  | { readonly kind: "pending"; readonly since: Date }
  | { readonly kind: "running"; readonly since: Date; readonly lastStep: string | null }
  | {
      readonly kind: "retrying";
      readonly step: string;
      readonly attempt: number;
      readonly attempts: number;
      readonly lastError: string;
      readonly nextTryAt: Date;
    }
  | {
      readonly kind: "sleeping";
      readonly sleep: string;
      readonly since: Date;
      readonly until: Date;
    }
  | {
      readonly kind: "waiting_for_event";
      readonly wait: string;
      readonly event: string;
      readonly match: Readonly<Record<string, unknown>> | null;
      readonly since: Date;
      readonly timesOutAt: Date;
    }
  | {
      readonly kind: "waiting_for_signal";
      readonly signal: string;
      readonly since: Date;
      readonly timesOutAt: Date;
    }
  | {
      readonly kind: "waiting_for_approval";
      readonly approval: string;
      readonly title: string | null;
      readonly approvals: number;
      readonly quorum: number;
      readonly since: Date;
      readonly timesOutAt: Date;
    }
  | { readonly kind: "cancelling"; readonly reason: string }
  | { readonly kind: "paused"; readonly reason: string; readonly message: string }
  | { readonly kind: "completed"; readonly at: Date; readonly took: number }
  | {
      readonly kind: "failed";
      readonly at: Date;
      readonly error: string;
      readonly step: string | null;
      readonly attempts: number | null;
    }
  | { readonly kind: "cancelled" | "timed_out"; readonly at: Date; readonly reason: string };

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

/** Formats a duration in milliseconds with its two largest units: "6d 21h", "2h 3m", "40s". */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ];
  let left = Math.max(0, Math.round(ms));
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (left >= size || (parts.length === 0 && name === "s")) {
      parts.push(`${Math.floor(left / size)}${name}`);
      left %= size;
    } else if (parts.length > 0) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

interface OpenOp {
  readonly position: number;
  readonly key: string;
  readonly kind: "step" | "sleep" | "wait";
  readonly entries: JournalEntry[];
}

const data = <T>(e: JournalEntry | undefined): T =>
  e?.data === null || e?.data === undefined ? ({} as T) : (decodeValue(e.data) as T);
const nameOf = (key: string) => key.slice(0, key.lastIndexOf("#"));

/** Explains a run. `approvals` are its open approvals (for decision counts). */
export function explain(
  run: RunRecord,
  journal: readonly JournalEntry[],
  approvals: readonly ApprovalRecord[],
  now: number,
): Explanation {
  const open = openOps(journal);
  const state = stateOf(run, journal, open, approvals, now);
  const alsoPending = [
    "retrying",
    "sleeping",
    "waiting_for_event",
    "waiting_for_signal",
    "waiting_for_approval",
  ].includes(state.kind)
    ? open.length - 1
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
    const kind = e.type.startsWith("step_")
      ? "step"
      : e.type.startsWith("sleep_")
        ? "sleep"
        : "wait";
    const op = ops.get(e.position) ?? { position: e.position, key: e.key, kind, entries: [] };
    op.entries.push(e);
    ops.set(e.position, op);
    if (["step_succeeded", "step_failed", "sleep_completed", "wait_completed"].includes(e.type))
      ops.delete(e.position);
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
      const error = data<{ error?: Error }>(journal.find((e) => e.type === "run_failed")).error;
      return {
        kind: "failed",
        at,
        error: error?.message ?? "unknown error",
        step: failed?.key ?? null,
        attempts: data<{ attempts?: number }>(failed).attempts ?? null,
      };
    }
    case "cancelled":
    case "timed_out":
      return {
        kind: run.status,
        at,
        reason:
          data<{ reason?: string }>(
            [...journal]
              .reverse()
              .find((e) => e.type === "run_cancelled" || e.type === "run_timed_out"),
          ).reason ?? "no reason given",
      };
    case "paused": {
      const paused = data<{ reason?: string; message?: string; error?: Error }>(
        [...journal].reverse().find((e) => e.type === "run_paused"),
      );
      return {
        kind: "paused",
        reason: run.pausedReason ?? paused.reason ?? "unknown",
        message: paused.error?.message ?? paused.message ?? "",
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
    if (waiting !== null) return waiting;
  }
  if (run.status === "pending") return { kind: "pending", since: new Date(run.updatedAt) };
  const lastStep = [...journal].reverse().find((e) => e.type === "step_succeeded");
  return { kind: "running", since: new Date(last?.at ?? now), lastStep: lastStep?.key ?? null };
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
      until: new Date(data<{ wakeAt: number }>(first).wakeAt),
    };
  if (op.kind === "step") {
    if (latest.type !== "step_attempt_failed" && latest.type !== "step_verification_failed")
      return null;
    const failure = data<{
      attempt: number;
      attempts?: number;
      retryAt: number;
      error?: Error & { status?: unknown };
    }>(latest);
    const status = failure.error?.status;
    const lastError =
      typeof status === "number" || typeof status === "string"
        ? `a ${String(status)}`
        : `'${(failure.error?.message ?? "an error").slice(0, 80)}'`;
    return {
      kind: "retrying",
      step: nameOf(op.key),
      attempt: failure.attempt + 1,
      attempts: failure.attempts ?? failure.attempt + 1,
      lastError,
      nextTryAt: new Date(failure.retryAt),
    };
  }
  const started = data<{
    kind: string;
    target: string;
    timeoutAt: number;
    match?: { paths: string[]; key: string };
  }>(first);
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
  };
}

function sentenceOf(state: RunState, now: number): string {
  const ago = (d: Date) => formatDuration(now - d.getTime());
  const inFuture = (d: Date) =>
    d.getTime() <= now ? "now" : `in ${formatDuration(d.getTime() - now)}`;
  switch (state.kind) {
    case "pending":
      return `queued for a worker since ${ago(state.since)}`;
    case "running":
      return `running${state.lastStep === null ? "" : ` (last completed step: '${nameOf(state.lastStep)}')`}; last progress ${ago(state.since)} ago`;
    case "retrying":
      return `retrying step '${state.step}' (attempt ${state.attempt} of ${state.attempts}) after ${state.lastError}; next try ${inFuture(state.nextTryAt)}`;
    case "sleeping":
      return `sleeping '${state.sleep}' until ${state.until.toISOString()} (${inFuture(state.until)})`;
    case "waiting_for_event": {
      const match =
        state.match === null
          ? ""
          : ` matching ${Object.entries(state.match)
              .map(([p, v]) => `${p} = ${JSON.stringify(v)}`)
              .join(", ")}`;
      return `waiting for event '${state.event}'${match} since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}`;
    }
    case "waiting_for_signal":
      return `waiting for signal '${state.signal}' since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}`;
    case "waiting_for_approval": {
      const count = state.quorum > 1 ? ` (${state.approvals} of ${state.quorum} approvals)` : "";
      return `waiting for approval '${state.approval}'${count} since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}`;
    }
    case "cancelling":
      return `cancelling (${state.reason}): its cleanup is running`;
    case "paused":
      return state.reason === "non_determinism"
        ? `paused: its code no longer matches its journal; deploy matching code and it resumes. ${state.message}`
        : `paused (${state.reason}): ${state.message}`;
    case "completed":
      return `completed ${ago(state.at)} ago, after ${formatDuration(state.took)}`;
    case "failed":
      return `failed ${ago(state.at)} ago${state.step === null ? "" : ` at step '${nameOf(state.step)}'${state.attempts === null ? "" : ` after ${state.attempts} attempt${state.attempts === 1 ? "" : "s"}`}`}: ${state.error}`;
    case "cancelled":
      return `cancelled ${ago(state.at)} ago: ${state.reason}`;
    case "timed_out":
      return `timed out ${ago(state.at)} ago: ${state.reason}`;
  }
}
