// A run's journal as a timeline for people: one line per step or wait, with its duration,
// attempts, errors, tokens and cost, and for waits who decided.
import { formatDuration } from "../engine/explain-sentence.js";
import type { EntryView } from "./backend.js";

/** One operation of a run, from its journal entries. */
export interface TimelineItem {
  readonly position: number;
  readonly name: string;
  readonly kind: "step" | "sleep" | "wait";
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** succeeded, failed, running, retrying; for waits, the wait's status (approved, timed_out, ...). */
  readonly status: string;
  readonly attempts: number;
  readonly errors: readonly string[];
  readonly tokens: number | null;
  readonly costUsd: number | null;
  /** Who decided an approval, or sent what ended the wait, when the journal says. */
  readonly by: string | null;
}

type Data = {
  attempt?: number;
  kind?: string;
  status?: string;
  error?: { name?: string; message?: string };
  usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number };
  result?: { by?: unknown; approved?: unknown };
};

const dataOf = (e: EntryView): Data =>
  typeof e.data === "object" && e.data !== null ? e.data : {};

const kindOf = (type: string): TimelineItem["kind"] =>
  type.startsWith("step_") ? "step" : type.startsWith("sleep_") ? "sleep" : "wait";

function errorText(d: Data): string {
  const e = d.error;
  if (e === undefined) return "unknown error";
  return e.name === undefined || e.name === "Error"
    ? (e.message ?? "")
    : `${e.name}: ${e.message ?? ""}`;
}

/** The operations of a journal, in call order. */
export function timelineOf(journal: readonly EntryView[]): TimelineItem[] {
  const items = new Map<number, TimelineItem>();
  for (const e of journal) {
    if (e.position === null || e.key === null) continue;
    if (e.type === "value_recorded" || e.type === "patch_applied") continue;
    const d = dataOf(e);
    const prior = items.get(e.position);
    const item: TimelineItem = prior ?? {
      position: e.position,
      name: e.key.slice(0, e.key.lastIndexOf("#")),
      kind: kindOf(e.type),
      startedAt: e.at,
      endedAt: null,
      status: "running",
      attempts: 0,
      errors: [],
      tokens: null,
      costUsd: null,
      by: null,
    };
    items.set(e.position, apply(item, e, d));
  }
  return [...items.values()].sort((a, b) => a.position - b.position);
}

function apply(item: TimelineItem, e: EntryView, d: Data): TimelineItem {
  switch (e.type) {
    case "step_attempt_started":
      return { ...item, attempts: Math.max(item.attempts, d.attempt ?? item.attempts + 1) };
    case "step_attempt_failed":
    case "step_verification_failed":
      return { ...item, status: "retrying", errors: [...item.errors, errorText(d)] };
    case "step_succeeded": {
      const u = d.usage;
      return {
        ...item,
        status: "succeeded",
        endedAt: e.at,
        attempts: Math.max(item.attempts, d.attempt ?? 1),
        tokens: u === undefined ? null : (u.inputTokens ?? 0) + (u.outputTokens ?? 0),
        costUsd: u?.costUsd ?? null,
      };
    }
    case "step_failed":
      return { ...item, status: "failed", endedAt: e.at, errors: [...item.errors, errorText(d)] };
    case "sleep_started":
    case "wait_started":
      return {
        ...item,
        status: e.type === "sleep_started" ? "sleeping" : `waiting (${d.kind ?? "?"})`,
      };
    case "sleep_completed":
      return { ...item, status: "slept", endedAt: e.at };
    case "sleep_cancelled":
    case "wait_cancelled":
    case "combinator_cancelled":
      return { ...item, status: "withdrawn", endedAt: e.at };
    case "combinator_settled":
      return { ...item, status: "decided", endedAt: e.at };
    case "wait_completed": {
      const r = d.result;
      const by = typeof r?.by === "string" ? r.by : null;
      const status =
        typeof r?.approved === "boolean"
          ? r.approved
            ? "approved"
            : "rejected"
          : (d.status ?? "done");
      return { ...item, status, endedAt: e.at, by };
    }
    default:
      return item;
  }
}

/** How long an item took (or has taken until `now`). */
export function durationOf(item: TimelineItem, now = Date.now()): string {
  const end = item.endedAt === null ? now : new Date(item.endedAt).getTime();
  const ms = Math.max(0, end - new Date(item.startedAt).getTime());
  return ms < 1_000 ? `${ms}ms` : formatDuration(ms);
}
