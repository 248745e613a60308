// Deterministic: what replay sees of a journal in which a run was retried or rewound.
import { readEntryData } from "./entry-data.js";
import type { EntryType, JournalEntry } from "./journal.js";
import { latestSegment } from "./segments.js";

/** Entries that end a run, or start its ending: a rewind supersedes them all. */
const ENDING: ReadonlySet<EntryType> = new Set<EntryType>([
  "run_completed",
  "run_failed",
  "run_cancelled",
  "run_timed_out",
  "run_cancel_requested",
  "run_paused",
]);

/**
 * The journal as replay reads it after `run_retried` and `run_rewound` entries. Before each
 * retry, the run's failure is forgotten (its `run_failed`, and every entry of the step that
 * failed last, when nothing was settled after it), so the failed step runs again with fresh
 * attempts while the steps that succeeded are answered from the journal. Before each rewind,
 * the entries it supersedes are forgotten (see {@link supersededBy}). The stored journal is
 * unchanged. Only the newest segment is read (see `ctx.continueAsNew`): entries before its
 * `run_continued` are history.
 */
export function journalForReplay(all: readonly JournalEntry[]): readonly JournalEntry[] {
  const entries = latestSegment(all);
  if (!entries.some((e) => e.type === "run_retried" || e.type === "run_rewound")) return entries;
  let kept: JournalEntry[] = [];
  for (const entry of entries) {
    if (entry.type === "run_retried") kept = withoutFailure(kept);
    else if (entry.type === "run_rewound") {
      const gone = supersededBy(kept, readEntryData(entry, "run_rewound").position);
      kept = kept.filter((e) => !gone.has(e.seq));
    }
    kept.push(entry);
  }
  return kept;
}

/**
 * The seqs of `entries` (a journal as replay reads it) that a rewind to `position` supersedes:
 * every entry of that position and after, the run's end, and, when the run was cancelled,
 * everything from the cancellation on (its cleanup).
 */
export function supersededBy(entries: readonly JournalEntry[], position: number): Set<number> {
  const cancelAt = entries.find((e) => e.type === "run_cancel_requested")?.seq ?? Infinity;
  const gone = new Set<number>();
  for (const e of entries) {
    if ((e.position !== null && e.position >= position) || ENDING.has(e.type) || e.seq >= cancelAt)
      gone.add(e.seq);
  }
  return gone;
}

/** The seqs of a stored journal's entries that a later rewind superseded (kept for history). */
export function supersededEntries(entries: readonly JournalEntry[]): Set<number> {
  const superseded = new Set<number>();
  if (!entries.some((e) => e.type === "run_rewound")) return superseded;
  let kept: JournalEntry[] = [];
  for (const entry of entries) {
    if (entry.type === "run_retried") kept = withoutFailure(kept);
    else if (entry.type === "run_rewound") {
      const gone = supersededBy(kept, readEntryData(entry, "run_rewound").position);
      for (const seq of gone) superseded.add(seq);
      kept = kept.filter((e) => !gone.has(e.seq));
    }
    kept.push(entry);
  }
  return superseded;
}

function withoutFailure(entries: readonly JournalEntry[]): JournalEntry[] {
  let failedAt: number | null = null;
  let lastPosition = -1;
  for (const e of entries) {
    if (e.position !== null) lastPosition = Math.max(lastPosition, e.position);
    if (e.type === "step_failed") failedAt = e.position;
  }
  const drop = failedAt !== null && failedAt === lastPosition ? failedAt : null;
  return entries.filter((e) => e.type !== "run_failed" && (drop === null || e.position !== drop));
}
