// Turns a run's journal into the rows of its waterfall: one row per operation (step, model
// call, sleep, wait), with its attempts, its outcome and the group of operations that ran at
// the same time. A pure function of the entries and the current time.

/** A journal entry as the dashboard reads it (times in epoch milliseconds). */
export interface Entry {
  readonly seq: number;
  readonly type: string;
  readonly at: number;
  readonly position: number | null;
  readonly key: string | null;
  readonly data: unknown;
}

export type OpKind = "step" | "model" | "sleep" | "wait";
export type OpState = "running" | "succeeded" | "failed" | "waiting" | "done";

/** One attempt of a step: from its start to its failure, or to the step's end. */
export interface Attempt {
  readonly n: number;
  readonly startMs: number;
  readonly endMs: number | null;
  readonly failed: boolean;
  readonly error: unknown;
}

/** One operation of the run, as a row of the waterfall. */
export interface Op {
  readonly position: number;
  readonly key: string;
  readonly kind: OpKind;
  readonly state: OpState;
  readonly startMs: number;
  /** When it settled, or null while it is open. */
  readonly endMs: number | null;
  readonly attempts: readonly Attempt[];
  /** A step's result, a wait's result, or null. */
  readonly output: unknown;
  readonly error: unknown;
  readonly usage: { inputTokens: number; outputTokens: number; costUsd: number } | null;
  readonly model: string | null;
  /** What the wait waits for (event name, approval name, signal) and its kind. */
  readonly wait: { kind: string; target: string; timeoutAt: number | null } | null;
  /** Operations that overlapped in time share a group number; null when it ran alone. */
  readonly parallelGroup: number | null;
  /** The entries of this operation, for the detail view. */
  readonly entries: readonly Entry[];
}

interface Draft {
  position: number;
  key: string;
  kind: OpKind;
  state: OpState;
  startMs: number;
  endMs: number | null;
  attempts: Attempt[];
  output: unknown;
  error: unknown;
  usage: Op["usage"];
  model: string | null;
  wait: Op["wait"];
  entries: Entry[];
}

const record = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The operations of a journal, in the order the workflow began them. */
export function buildTimeline(entries: readonly Entry[]): Op[] {
  const drafts = new Map<number, Draft>();
  for (const entry of entries) {
    if (entry.position === null || entry.key === null) continue;
    let draft = drafts.get(entry.position);
    if (draft === undefined) {
      draft = newDraft(entry);
      drafts.set(entry.position, draft);
    }
    draft.entries.push(entry);
    apply(draft, entry);
  }
  const ops = [...drafts.values()].sort((a, b) => a.startMs - b.startMs || a.position - b.position);
  return groupParallel(ops);
}

function newDraft(entry: Entry): Draft {
  const type = entry.type;
  const kind: OpKind = type.startsWith("sleep_")
    ? "sleep"
    : type.startsWith("wait_")
      ? "wait"
      : "step";
  return {
    position: entry.position ?? 0,
    key: entry.key ?? "",
    kind,
    state: kind === "step" ? "running" : "waiting",
    startMs: entry.at,
    endMs: null,
    attempts: [],
    output: null,
    error: null,
    usage: null,
    model: null,
    wait: null,
    entries: [],
  };
}

function apply(d: Draft, e: Entry): void {
  const data = record(e.data);
  switch (e.type) {
    case "step_attempt_started":
      d.attempts.push({
        n: Number(data.attempt ?? d.attempts.length + 1),
        startMs: e.at,
        endMs: null,
        failed: false,
        error: null,
      });
      return;
    case "step_attempt_failed":
    case "step_verification_failed":
      closeAttempt(d, e.at, true, data.error ?? null);
      return;
    case "step_succeeded": {
      closeAttempt(d, e.at, false, null);
      d.state = "succeeded";
      d.endMs = e.at;
      d.output = data.result ?? null;
      const usage = record(data.usage);
      if (data.usage !== undefined) {
        d.kind = "model";
        d.usage = {
          inputTokens: Number(usage.inputTokens ?? 0),
          outputTokens: Number(usage.outputTokens ?? 0),
          costUsd: Number(usage.costUsd ?? 0),
        };
        const model = record(data.result).model;
        d.model = typeof model === "string" ? model : null;
      }
      return;
    }
    case "step_failed":
      closeAttempt(d, e.at, true, data.error ?? null);
      d.state = "failed";
      d.endMs = e.at;
      d.error = data.error ?? null;
      return;
    case "sleep_started":
      d.wait = {
        kind: "sleep",
        target: "timer",
        timeoutAt: typeof data.wakeAt === "number" ? data.wakeAt : null,
      };
      return;
    case "wait_started":
      d.wait = {
        kind: typeof data.kind === "string" ? data.kind : "event",
        target: typeof data.target === "string" ? data.target : JSON.stringify(data.target ?? ""),
        timeoutAt: typeof data.timeoutAt === "number" ? data.timeoutAt : null,
      };
      return;
    case "sleep_completed":
    case "wait_completed":
      d.state = "done";
      d.endMs = e.at;
      d.output = data.result ?? null;
      return;
    case "sleep_cancelled":
    case "wait_cancelled":
    case "combinator_cancelled":
    case "combinator_settled":
      d.state = "done";
      d.endMs = e.at;
      d.output = e.type === "combinator_settled" ? data : { withdrawn: data.by ?? true };
      return;
    default:
      return;
  }
}

function closeAttempt(d: Draft, at: number, failed: boolean, error: unknown): void {
  const last = d.attempts[d.attempts.length - 1];
  if (last === undefined || last.endMs !== null) return;
  d.attempts[d.attempts.length - 1] = { ...last, endMs: at, failed, error };
}

/** Marks operations whose time spans overlap (ctx.all, ctx.map, tool calls of one turn). */
function groupParallel(drafts: Draft[]): Op[] {
  const ops: Op[] = [];
  let group = 0;
  let groupEnd = -Infinity;
  let members: number[] = [];
  const flush = (): void => {
    if (members.length > 1) for (const i of members) ops[i] = { ...ops[i]!, parallelGroup: group };
    members = [];
  };
  for (const d of drafts) {
    const end = d.endMs ?? Infinity;
    if (d.startMs >= groupEnd) {
      flush();
      group++;
      groupEnd = end;
    } else {
      groupEnd = Math.max(groupEnd, end);
    }
    members.push(ops.length);
    ops.push({ ...d, parallelGroup: null });
  }
  flush();
  return ops;
}

/** The span the waterfall draws: from the first entry to the last, or to now while open. */
export function timelineSpan(
  ops: readonly Op[],
  nowMs: number,
): { startMs: number; endMs: number } {
  if (ops.length === 0) return { startMs: nowMs, endMs: nowMs + 1 };
  const startMs = Math.min(...ops.map((o) => o.startMs));
  const endMs = Math.max(...ops.map((o) => o.endMs ?? nowMs), startMs + 1);
  return { startMs, endMs };
}
