// Deterministic: an index over a run's journal, for replay.
import { ORDERED_TYPES, type JournalEntry } from "./journal.js";
import { segmentStart } from "./segments.js";

/** A run's journal arranged for replay: entries per operation position, and what the code saw
 * happen (settlements, cancellation requests) in the order it first saw it. */
export interface History {
  readonly byPosition: ReadonlyMap<number, readonly JournalEntry[]>;
  readonly settlements: readonly JournalEntry[];
  /** Highest operation position the journal mentions (`base` when none). */
  readonly lastPosition: number;
  readonly length: number;
  /** The journal segment replayed (1, 2, ...; see `ctx.continueAsNew`). */
  readonly segment: number;
  /** Positions used by earlier segments: this one's operations come after them. */
  readonly base: number;
}

/** Builds a {@link History} from a run's entries (its newest segment) in journal order. */
export function indexHistory(entries: readonly JournalEntry[]): History {
  const byPosition = new Map<number, JournalEntry[]>();
  const settlements: JournalEntry[] = [];
  const { segment, positions: base } = segmentStart(entries);
  let lastPosition = base;
  for (const entry of entries) {
    if (ORDERED_TYPES.has(entry.type)) settlements.push(entry);
    if (entry.position === null) continue;
    let list = byPosition.get(entry.position);
    if (list === undefined) byPosition.set(entry.position, (list = []));
    list.push(entry);
    if (entry.position > lastPosition) lastPosition = entry.position;
  }
  return { byPosition, settlements, lastPosition, length: entries.length, segment, base };
}

/** Operation kinds, as the journal names them. */
export type OpKind = "step" | "sleep" | "wait" | "combinator" | "value" | "memory" | "patch";

/** The operation kind an entry type belongs to. */
export function opKindOf(type: JournalEntry["type"]): OpKind | null {
  if (type.startsWith("step_")) return "step";
  if (type.startsWith("sleep_")) return "sleep";
  if (type.startsWith("wait_")) return "wait";
  if (type.startsWith("memory_")) return "memory";
  if (type.startsWith("combinator_")) return "combinator";
  if (type === "value_recorded") return "value";
  if (type === "patch_applied") return "patch";
  return null;
}
