// Deterministic: an index over a run's journal, for replay.
import { SETTLING_TYPES, type JournalEntry } from "./journal.js";

/** A run's journal arranged for replay: entries per operation position, and settlements in
 * the order the code first saw them. */
export interface History {
  readonly byPosition: ReadonlyMap<number, readonly JournalEntry[]>;
  readonly settlements: readonly JournalEntry[];
  /** Highest operation position the journal mentions (0 when none). */
  readonly lastPosition: number;
  readonly length: number;
}

/** Builds a {@link History} from a run's entries in journal order. */
export function indexHistory(entries: readonly JournalEntry[]): History {
  const byPosition = new Map<number, JournalEntry[]>();
  const settlements: JournalEntry[] = [];
  let lastPosition = 0;
  for (const entry of entries) {
    if (entry.position === null) continue;
    let list = byPosition.get(entry.position);
    if (list === undefined) byPosition.set(entry.position, (list = []));
    list.push(entry);
    if (SETTLING_TYPES.has(entry.type)) settlements.push(entry);
    if (entry.position > lastPosition) lastPosition = entry.position;
  }
  return { byPosition, settlements, lastPosition, length: entries.length };
}

/** The operation kind an entry type belongs to. */
export function opKindOf(type: JournalEntry["type"]): "step" | "sleep" | "value" | null {
  if (type.startsWith("step_")) return "step";
  if (type.startsWith("sleep_")) return "sleep";
  if (type === "value_recorded") return "value";
  return null;
}
