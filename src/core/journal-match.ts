// Deterministic: matches the operations the code asks for with its journal: gives each its
// position and key, finds what the journal recorded there, and reports where the two differ.
import { callSite, placeAsRun, type SitePlacer } from "./call-site.js";
import { describeOp, type Divergence } from "./divergence.js";
import { opKindOf, type History, type OpKind } from "./history.js";
import type { JournalEntry } from "./journal.js";
import { cancelled } from "./combinators.js";
import type { Op } from "./op.js";
import { readEntryData } from "./entry-data.js";
import { upcast } from "./shapes.js";

/** An operation given its place in the run. */
export interface Claim {
  readonly position: number;
  readonly key: string;
  /** What the journal recorded at this position (a replay), if anything. */
  readonly prior: readonly JournalEntry[] | undefined;
  /** Where the code made the call, when it is to be journaled. */
  readonly site: string | null;
}

/** Positions and keys of a run's operations, checked against what its journal recorded. */
export class JournalMatcher {
  private position: number;
  private callCount = 0;
  private readonly occurrences = new Map<string, number>();
  /** Appended to keys after the first segment (`enrich#3@2`): keys, and what is derived from
   * them (idempotency keys, child run ids), stay unique across a run's segments. */
  private readonly keySuffix: string;

  constructor(
    readonly history: History,
    private readonly diverged: (divergence: Divergence) => void,
    private readonly place: SitePlacer = placeAsRun,
  ) {
    this.position = history.base;
    this.keySuffix = history.segment === 1 ? "" : `@${history.segment}`;
  }

  /** Operations asked for so far. */
  get calls(): number {
    return this.callCount;
  }

  /** The position given last. */
  get lastPosition(): number {
    return this.position;
  }

  /** Assigns the next position to an operation and checks it against the journal. */
  claim(kind: OpKind, name: string): Claim | null {
    const position = ++this.position;
    this.callCount++;
    let key = name;
    let occurrence = 0;
    if (kind !== "value") {
      occurrence = (this.occurrences.get(name) ?? 0) + 1;
      this.occurrences.set(name, occurrence);
      key = `${name}#${occurrence}${this.keySuffix}`;
    }
    const prior = this.history.byPosition.get(position);
    const recorded = prior?.[0];
    // Where the code made the call, journaled with its first occurrence (a loop's later
    // occurrences come from the same line, and capturing a stack is not free).
    const site = prior === undefined && occurrence === 1 ? callSite(this.place) : null;
    if (recorded !== undefined && (opKindOf(recorded.type) !== kind || recorded.key !== key)) {
      this.diverged({
        position,
        recorded,
        requested: describeOp(kind, key),
        site: callSite(this.place),
      });
      return null;
    }
    return { position, key, prior, site };
  }

  /**
   * Where patch `id` stands in this run: `marked` (the journal holds its marker at the next
   * position, now given to it), `old` (the run passed this point on the code before the patch:
   * no position is taken), or `new` (the run reaches it on this code: the next position is
   * its, for the marker to journal). Null when the journal holds another patch's marker there
   * (the divergence is reported).
   */
  patch(
    id: string,
    asked: string,
  ): { kind: "marked" | "new"; position: number } | { kind: "old" } | null {
    const next = this.position + 1;
    const recorded = this.history.byPosition.get(next)?.[0];
    if (recorded?.type === "patch_applied" && recorded.key === id) {
      this.position = next;
      this.callCount++;
      return { kind: "marked", position: next };
    }
    if (recorded?.type === "patch_applied") {
      this.diverged({ position: next, recorded, requested: asked, site: callSite(this.place) });
      return null;
    }
    if (next <= this.history.lastPosition) return { kind: "old" };
    this.position = next;
    this.callCount++;
    return { kind: "new", position: next };
  }

  /** Reports a divergence found by the run itself (a patch deprecated too early). */
  diverge(position: number, requested: string): void {
    this.diverged({
      position,
      recorded: this.history.byPosition.get(position)?.[0],
      requested,
      site: callSite(this.place),
    });
  }

  /**
   * At the end of the code: true (and the divergence reported) when the journal holds more,
   * `pending` being the next journaled settlement not yet handed to the code.
   */
  endsEarly(pending: JournalEntry | undefined): boolean {
    const lastPosition = this.history.lastPosition;
    if (pending === undefined && lastPosition <= this.position) return false;
    const at = pending?.position ?? lastPosition;
    this.diverged({
      position: at,
      recorded: this.history.byPosition.get(at)?.[0],
      requested: "the end of the workflow (it returned or threw)",
      site: null,
    });
    return true;
  }

  /** The journal holds `entry` but the code stopped before asking for it. */
  stalled(entry: JournalEntry): void {
    if (entry.position === null) return;
    this.diverged({
      position: entry.position,
      recorded: this.history.byPosition.get(entry.position)?.[0],
      requested: "nothing: the code is waiting on something else and never asked for it",
      site: null,
    });
  }
}

/**
 * Hands `op` the result its journal recorded in `entry`, brought up to the shape the code
 * declares for it. Throws an UpcastFailedError (handing nothing) when that fails.
 */
export function settleFromJournal(op: Op, entry: JournalEntry, runId: string): void {
  if (op.fromJournal !== undefined) {
    op.fromJournal(entry);
    return;
  }
  if (entry.type === "wait_cancelled" || entry.type === "sleep_cancelled") {
    op.reject(cancelled(op.key, entry));
    return;
  }
  if (entry.type === "step_failed") op.reject(readEntryData(entry, entry.type).error);
  else if (entry.type === "memory_failed") op.reject(readEntryData(entry, entry.type).error);
  else if (entry.type === "step_succeeded") {
    const data = readEntryData(entry, entry.type);
    op.resolve(upcast(op.shape, data.shape, data.result, resultOf(op, runId)));
  } else if (entry.type === "wait_completed") {
    const data = readEntryData(entry, entry.type);
    if ("error" in data) op.reject(data.error);
    else op.resolve(upcastReceived(op, data.shape, data.result, runId));
  } else if (entry.type === "memory_read" || entry.type === "memory_written")
    op.resolve(readEntryData(entry, entry.type).value);
  else op.resolve(undefined);
}

const resultOf = (op: Op, runId: string): string =>
  `the result of ${op.kind} '${op.key}' of run ${runId}`;

/** An event a wait received, its data brought up to the shape the code declares. */
function upcastReceived(op: Op, recorded: number | undefined, value: unknown, runId: string) {
  if (value === null || typeof value !== "object" || !("data" in value)) return value;
  if ((op.shape ?? null) === null && recorded === undefined) return value;
  const event = value;
  const data = upcast(
    op.shape,
    recorded,
    event.data,
    `the event data of wait '${op.key}' of run ${runId}`,
  );
  return data === event.data ? value : { ...event, data };
}
