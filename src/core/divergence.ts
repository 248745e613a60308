// Deterministic: reports a run that diverged from its journal: what the journal recorded
// there, what the code asked for instead, and where in the code each call was made.
import { NonDeterminismError } from "./errors.js";
import { opKindOf, type History, type OpKind } from "./history.js";
import type { JournalEntry } from "./journal.js";
import { mayHaveSite, readEntryData } from "./entry-data.js";

/** Where the code and the journal part ways. */
export interface Divergence {
  readonly position: number;
  /** What the journal holds at `position`, if anything. */
  readonly recorded: JournalEntry | undefined;
  /** What the code did instead, in words. */
  readonly requested: string;
  /** Where the code made its call (`file:line:column`), when known. */
  readonly site: string | null;
}

/** An operation in words, as divergence messages name it. */
export function describeOp(kind: OpKind, key: string): string {
  if (kind === "value") return `ctx.${key}()`;
  if (kind === "patch") return `ctx.patched('${key}')`;
  return `${kind} '${key}'`;
}

/** The error that pauses a run which diverged from `history`. */
export function divergenceError(
  runId: string,
  history: History,
  divergence: Divergence,
): NonDeterminismError {
  const { position, recorded, requested, site } = divergence;
  const recordedText = recorded === undefined ? "nothing" : describeEntry(recorded);
  const recordedSite = recorded === undefined ? null : siteOf(history, recorded);
  const hint =
    (recordedSite !== null ? `The journal's call was made at ${recordedSite}. ` : "") +
    (site !== null ? `This call is at ${site}. ` : "");
  return new NonDeterminismError({
    runId,
    position,
    recorded: recordedText,
    requested,
    hint,
    recordedSite,
    requestedSite: site,
  });
}

function describeEntry(entry: JournalEntry): string {
  const kind = opKindOf(entry.type);
  return kind === null ? entry.type : describeOp(kind, entry.key ?? "?");
}

/** Where the journaled call was made: on its entry, or on its name's first occurrence. */
function siteOf(history: History, recorded: JournalEntry): string | null {
  const own = siteIn(recorded);
  if (own !== null || recorded.key === null) return own;
  const first = `${recorded.key.slice(0, recorded.key.lastIndexOf("#"))}#1`;
  for (const entries of history.byPosition.values()) {
    if (entries[0]?.key === first) return siteIn(entries.find((e) => siteIn(e) !== null));
  }
  return null;
}

function siteIn(entry: JournalEntry | undefined): string | null {
  if (entry === undefined || !mayHaveSite(entry.data)) return null;
  switch (entry.type) {
    case "step_attempt_started":
    case "sleep_started":
    case "wait_started":
      return readEntryData(entry, entry.type).site ?? null;
    default:
      return null;
  }
}
