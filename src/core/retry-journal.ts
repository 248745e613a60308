// Deterministic: what replay sees of a journal in which a failed run was retried.
import type { JournalEntry } from "./journal.js";

/**
 * The journal as replay reads it after `run_retried` entries: before each retry, the run's
 * failure is forgotten (its `run_failed`, and every entry of the step that failed last, when
 * nothing was settled after it), so the failed step runs again with fresh attempts while
 * the steps that succeeded are answered from the journal. The stored journal is unchanged.
 */
export function journalForReplay(entries: readonly JournalEntry[]): readonly JournalEntry[] {
  if (!entries.some((e) => e.type === "run_retried")) return entries;
  let kept: JournalEntry[] = [];
  for (const entry of entries) {
    if (entry.type === "run_retried") kept = withoutFailure(kept);
    kept.push(entry);
  }
  return kept;
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
