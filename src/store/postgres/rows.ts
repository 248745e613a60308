// Rows of the PostgreSQL store and how they become the contract's records.
import type { JournalEntry, NewEntry } from "../../core/journal.js";
import type { Cancellation, RunStatus } from "../../core/types.js";
import type { RunRecord } from "../store.js";

/** The columns of a run that make its {@link RunRecord}. */
export const RUN_COLUMNS =
  "id, workflow, version, status, input, output, error, paused_reason, created_at, updated_at, " +
  "ended_at, wake_at, owner, epoch, recoveries, priority, concurrency_key, cancel_requested, " +
  "deadline_at, input_tokens, output_tokens, cost_usd, metered_calls";

/** A run row as {@link RUN_COLUMNS} selects it (bigints parsed as numbers). */
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
}

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

export function toRecord(row: RunRow): RunRecord {
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
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    wakeAt: row.wake_at === null ? null : Number(row.wake_at),
    owner: row.owner,
    epoch: Number(row.epoch),
    recoveries: row.recoveries,
    priority: row.priority,
    concurrencyKey: row.concurrency_key,
    cancelRequested:
      row.cancel_requested === null ? null : (JSON.parse(row.cancel_requested) as Cancellation),
    deadlineAt: row.deadline_at === null ? null : Number(row.deadline_at),
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      calls: row.metered_calls,
    },
  };
}

/** Journal rows as entries, a shared step row giving back its start and its result. */
export function toEntries(runId: string, rows: readonly EntryRow[]): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const row of rows) {
    const at = Number(row.at);
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
      at,
      position: row.position,
      key: row.key,
      data: row.data,
    });
  }
  return entries;
}

/** Entries as rows to insert: a step's start followed by its success share one row. */
export function toRows(entries: readonly NewEntry[]): Omit<EntryRow, "seq">[] {
  const rows: Omit<EntryRow, "seq">[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as NewEntry;
    const next = entries[i + 1];
    if (
      e.type === "step_attempt_started" &&
      next?.type === "step_succeeded" &&
      next.position === e.position
    ) {
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
