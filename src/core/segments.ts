// Deterministic: journal segments. `ctx.continueAsNew` ends a run's journal segment and starts
// a fresh one under the same run id with a `run_continued` entry; replay reads only the newest
// segment, while the stored journal keeps every one as history.
import { readEntryData } from "./entry-data.js";
import type { JournalEntry } from "./journal.js";

/** The entries of the newest segment: from the last `run_continued` on (the whole journal
 * when the run never continued). */
export function latestSegment<E extends Pick<JournalEntry, "type">>(
  entries: readonly E[],
): readonly E[] {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.type === "run_continued") return i === 0 ? entries : entries.slice(i);
  }
  return entries;
}

/** Where a segment (as replay reads it) starts: its number (1 for the first), the positions
 * used before it, and its input when it was continued (encoded in the entry's data). */
export interface SegmentStart {
  readonly segment: number;
  readonly positions: number;
  /** The segment's input, decoded; absent for the first segment (the run's own input). */
  readonly input?: { readonly value: unknown };
}

/** How the segment `journal` (its first entry first) starts. */
export function segmentStart(journal: readonly JournalEntry[]): SegmentStart {
  const first = journal[0];
  if (first?.type !== "run_continued") return { segment: 1, positions: 0 };
  const data = readEntryData(first, "run_continued");
  return { segment: data.segment, positions: data.positions, input: { value: data.input } };
}

/** The input the segment `journal` runs with: its `run_continued` input, else `runInput`. */
export function segmentInput(journal: readonly JournalEntry[], runInput: () => unknown): unknown {
  const start = segmentStart(journal);
  return start.input === undefined ? runInput() : start.input.value;
}

/** The segment number (1, 2, ...) of each entry of a whole journal, index for index. */
export function segmentNumbers(entries: readonly Pick<JournalEntry, "type">[]): number[] {
  let segment = 1;
  return entries.map((e) => (e.type === "run_continued" ? ++segment : segment));
}
