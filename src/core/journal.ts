// Deterministic: the vocabulary of the journal. Every entry is a past-tense fact about a run.
import type { Usage } from "./usage.js";

/** Kinds of journal entries, in the order a run usually writes them. */
export type EntryType =
  | "run_started"
  | "run_recovered"
  | "run_resumed"
  | "run_retried"
  | "run_rewound"
  | "run_forked"
  | "run_suspended"
  | "run_continued"
  | "run_limit_reached"
  | "step_attempt_started"
  | "step_attempt_failed"
  | "step_verification_failed"
  | "step_succeeded"
  | "step_failed"
  | "value_recorded"
  | "patch_applied"
  | "memory_read"
  | "memory_written"
  | "memory_failed"
  | "sleep_started"
  | "sleep_completed"
  | "sleep_cancelled"
  | "wait_started"
  | "wait_reminded"
  | "wait_escalated"
  | "wait_completed"
  | "wait_cancelled"
  | "combinator_settled"
  | "combinator_cancelled"
  | "run_cancel_requested"
  | "run_completed"
  | "run_failed"
  | "run_cancelled"
  | "run_timed_out"
  | "run_paused";

/** One fact in a run's journal, as the store returns it. */
export interface JournalEntry {
  /** Position in the run's journal: 1, 2, 3, ... in the order the entries were written. */
  readonly seq: number;
  readonly runId: string;
  readonly type: EntryType;
  /** When the fact happened, in milliseconds since the epoch (engine clock). */
  readonly at: number;
  /** Position of the operation in the workflow's call order, when the entry belongs to one. */
  readonly position: number | null;
  /** Name of the operation, with its occurrence (`enrich#3`), when it belongs to one. */
  readonly key: string | null;
  /** Encoded details (see `serialize.ts`), or null. */
  readonly data: string | null;
}

/** An entry before the store has given it an id. A `step_succeeded` of a metered step
 * carries its `usage`, which the store adds to the run's totals as it writes the entry. */
export type NewEntry = Omit<JournalEntry, "seq" | "runId"> & { readonly usage?: Usage };

/** Entries that settle an operation: replay hands them to the code in journal order. */
export const SETTLING_TYPES: ReadonlySet<EntryType> = new Set<EntryType>([
  "step_succeeded",
  "step_failed",
  "sleep_completed",
  "sleep_cancelled",
  "wait_completed",
  "memory_read",
  "memory_written",
  "memory_failed",
  "wait_cancelled",
  "combinator_settled",
  "combinator_cancelled",
]);

/** Entries replay hands over in journal order too, though they settle no operation. */
export const ORDERED_TYPES: ReadonlySet<EntryType> = new Set<EntryType>([
  ...SETTLING_TYPES,
  "run_cancel_requested",
  "run_limit_reached",
]);

/** Every entry type, as a record the compiler keeps complete: a type added to `EntryType`
 * must be added here. Readers refuse entries of any other type. */
export const ENTRY_TYPE_SET: Readonly<Record<EntryType, true>> = {
  run_started: true,
  run_recovered: true,
  run_resumed: true,
  run_retried: true,
  run_rewound: true,
  run_forked: true,
  run_suspended: true,
  run_continued: true,
  run_limit_reached: true,
  step_attempt_started: true,
  step_attempt_failed: true,
  step_verification_failed: true,
  step_succeeded: true,
  step_failed: true,
  value_recorded: true,
  patch_applied: true,
  memory_read: true,
  memory_written: true,
  memory_failed: true,
  sleep_started: true,
  sleep_completed: true,
  wait_started: true,
  wait_reminded: true,
  wait_escalated: true,
  wait_completed: true,
  run_cancel_requested: true,
  run_completed: true,
  run_failed: true,
  run_cancelled: true,
  run_timed_out: true,
  run_paused: true,
  sleep_cancelled: true,
  wait_cancelled: true,
  combinator_settled: true,
  combinator_cancelled: true,
};
