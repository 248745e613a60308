// Rows of the SQL stores (SQLite and PostgreSQL share their tables' shapes) and how they
// become the contract's records. PostgreSQL's bigints may arrive as strings: every number
// goes through Number().
import type { ApprovalRules } from "../core/approval-rules.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { decodeValue } from "../core/serialize.js";
import type { Cancellation, RunStatus } from "../core/types.js";
import type { EventRecord, PayloadOpener, RunRecord, WaitRecord } from "./store.js";

/** The columns of a run that make its {@link RunRecord}. */
export const RUN_COLUMNS =
  "id, workflow, version, status, input, output, error, paused_reason, created_at, updated_at, " +
  "ended_at, wake_at, owner, epoch, recoveries, priority, concurrency_key, cancel_requested, " +
  "deadline_at, input_tokens, output_tokens, cost_usd, metered_calls, parent_id";

/** A run row as {@link RUN_COLUMNS} selects it. */
export interface RunRow {
  id: string;
  workflow: string;
  version: string | null;
  status: RunStatus;
  input: string;
  output: string | null;
  error: string | null;
  paused_reason: string | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  wake_at: number | null;
  owner: string | null;
  epoch: number;
  recoveries: number;
  priority: number;
  concurrency_key: string | null;
  cancel_requested: string | null;
  deadline_at: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  metered_calls: number;
  parent_id: string | null;
}

const orNull = (n: number | null): number | null => (n === null ? null : Number(n));

export function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    version: row.version,
    status: row.status,
    input: row.input,
    output: row.output,
    error: row.error,
    pausedReason: row.paused_reason,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    endedAt: orNull(row.ended_at),
    wakeAt: orNull(row.wake_at),
    owner: row.owner,
    epoch: Number(row.epoch),
    recoveries: Number(row.recoveries),
    priority: Number(row.priority),
    concurrencyKey: row.concurrency_key,
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      calls: Number(row.metered_calls),
    },
    cancelRequested:
      row.cancel_requested === null ? null : (JSON.parse(row.cancel_requested) as Cancellation),
    deadlineAt: orNull(row.deadline_at),
    parentId: row.parent_id ?? null,
  };
}

/** The page cursor after a run of a `listRuns` page: its creation time and id. */
export function cursorOf(run: RunRecord): string {
  return `${run.createdAt}:${run.id}`;
}

/** A `listRuns` cursor as [created_at, id], or nulls for the first page (or a bad cursor). */
export function parseCursor(cursor: string | undefined): [number | null, string | null] {
  if (cursor === undefined) return [null, null];
  const i = cursor.indexOf(":");
  const at = Number(cursor.slice(0, i));
  return i > 0 && Number.isFinite(at) ? [at, cursor.slice(i + 1)] : [null, null];
}

/** The columns of a journal row. */
export const ENTRY_COLUMNS = "seq, type, at, position, key, data, started_at, started_data";

/** A journal row; `started_*` set when it also holds the step's start. */
export interface EntryRow {
  seq: number;
  type: JournalEntry["type"];
  at: number;
  position: number | null;
  key: string | null;
  data: string | null;
  started_at: number | null;
  started_data: string | null;
}

/** Journal rows as entries, a shared step row giving back its start and its result. */
export function toEntries(runId: string, rows: readonly EntryRow[]): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const row of rows) {
    if (row.started_at !== null) {
      entries.push({
        seq: entries.length + 1,
        runId,
        type: "step_attempt_started",
        at: Number(row.started_at),
        position: row.position,
        key: row.key,
        data: row.started_data,
      });
    }
    entries.push({
      seq: entries.length + 1,
      runId,
      type: row.type,
      at: Number(row.at),
      position: row.position,
      key: row.key,
      data: row.data,
    });
  }
  return entries;
}

/**
 * Whether `e` and the entry after it share one journal row: a step's start followed by its
 * success, committed together (half the b-tree inserts of a group commit). Reading the row
 * gives back both entries (see toEntries).
 */
export function sharesRow(e: NewEntry, next: NewEntry | undefined): next is NewEntry {
  return (
    e.type === "step_attempt_started" &&
    next?.type === "step_succeeded" &&
    next.position === e.position
  );
}

/** Entries as rows to insert: a step's start followed by its success share one row. */
export function toEntryRows(entries: readonly NewEntry[]): Omit<EntryRow, "seq">[] {
  const rows: Omit<EntryRow, "seq">[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as NewEntry;
    const next = entries[i + 1];
    if (sharesRow(e, next)) {
      rows.push({ ...fields(next), started_at: e.at, started_data: e.data });
      i++;
    } else {
      rows.push({ ...fields(e), started_at: null, started_data: null });
    }
  }
  return rows;
}

function fields(e: NewEntry) {
  return { type: e.type, at: e.at, position: e.position, key: e.key, data: e.data };
}

/** The columns of a wait row. */
export const WAIT_COLUMNS =
  "run_id, position, key, kind, target, match_paths, match_key, timeout_at, details, " +
  "added_approvers, status, value, created_at, ended_at";

/** A wait row as {@link WAIT_COLUMNS} selects it. */
export interface WaitRow {
  run_id: string;
  position: number;
  key: string;
  kind: WaitRecord["kind"];
  target: string;
  match_paths: string;
  match_key: string;
  timeout_at: number;
  details: string | null;
  added_approvers: string;
  status: WaitRecord["status"];
  value: string | null;
  created_at: number;
  ended_at: number | null;
}

export function toWait(row: WaitRow): WaitRecord {
  return {
    runId: row.run_id,
    position: Number(row.position),
    key: row.key,
    kind: row.kind,
    target: row.target,
    timeoutAt: Number(row.timeout_at),
    details: row.details,
    status: row.status,
    value: row.value,
    createdAt: Number(row.created_at),
    endedAt: orNull(row.ended_at),
    addedApprovers: JSON.parse(row.added_approvers) as string[],
  };
}

/**
 * How a store reads the payloads it looks into itself (see `Store.usePayloadOpener`): one per
 * store, shared by its parts.
 */
export class StorePayloads {
  open: PayloadOpener = (text) => text;

  /** An event's data, to match it against waits. */
  eventData(text: string): unknown {
    return JSON.parse(this.open(text)) as unknown;
  }

  /** An approval wait's rules: those it was created with, plus approvers added since. */
  rulesOf(wait: WaitRecord): ApprovalRules {
    return rulesOf(wait.details === null ? wait : { ...wait, details: this.open(wait.details) });
  }
}

/** An approval wait's rules: those it was created with, plus approvers added since. */
export function rulesOf(wait: WaitRecord): ApprovalRules {
  const stored = decodeValue(wait.details ?? "{}") as ApprovalRules;
  return {
    ...stored,
    approvers: stored.approvers.length === 0 ? [] : [...stored.approvers, ...wait.addedApprovers],
  };
}

/** An event row. */
export interface EventRow {
  pos: number;
  id: string;
  name: string;
  data: string;
  received_at: number;
}

export function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    name: row.name,
    data: row.data,
    receivedAt: Number(row.received_at),
    pos: Number(row.pos),
  };
}

/**
 * Name of the row in `cursors` that holds the highest event position retention ever deleted.
 * A new event takes the position after both it and the highest one stored, so positions are
 * never given twice: a trigger or a wait whose cursor passed a deleted event still sees every
 * event sent after it. (`trigger:` rows are the triggers' own cursors; this is not one.)
 */
export const DELETED_EVENTS_CURSOR = "events:deleted";
