// Tamper evidence: each journal entry carries a SHA-256 hash chained to the entry before it,
// the first to the run's creation (its id, workflow, version and input as stored). An entry
// that is edited, removed or moved breaks the chain where it was, and `verify` says where.
//
// The hash travels in the entry's stored data, in an envelope the store keeps as opaque text:
// `{"$endure":"chain","h":"<base64url sha-256>","d":<the entry's data, or null>}`. Readers
// take the envelope off, so that nothing above the store ever sees it.
import { createHash } from "node:crypto";
import type { EntryType, JournalEntry, NewEntry } from "../core/journal.js";
import type { RunRecord } from "../store/store.js";

const PREFIX = '{"$endure":"chain","h":"';
/** Characters of a base64url SHA-256 digest. */
const HASH_CHARS = 43;
const DATA_AT = PREFIX.length + HASH_CHARS + '","d":'.length;

/** The hash a run's chain starts from: its creation, as stored. */
export function creationHash(run: {
  id: string;
  workflow: string;
  version: string | null;
  input: string;
}): string {
  return digest(JSON.stringify(["endure-chain-v1", run.id, run.workflow, run.version, run.input]));
}

/** The hash of `entry` (its data as stored) after the entry whose hash is `previous`. */
export function entryHash(
  previous: string,
  entry: Pick<NewEntry, "type" | "at" | "position" | "key" | "data">,
): string {
  return digest(
    JSON.stringify([previous, entry.type, entry.at, entry.position, entry.key, entry.data]),
  );
}

function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

/** Entry data with its chain hash, as the store keeps it. */
export function chained(hash: string, data: string | null): string {
  return `${PREFIX}${hash}","d":${data ?? "null"}}`;
}

/** An entry's stored data split into its hash (null when it carries none) and its data. */
export function unchained(stored: string | null): { hash: string | null; data: string | null } {
  if (stored === null || !stored.startsWith(PREFIX) || stored.length < DATA_AT + 1) {
    return { hash: null, data: stored };
  }
  const inner = stored.slice(DATA_AT, -1);
  return {
    hash: stored.slice(PREFIX.length, PREFIX.length + HASH_CHARS),
    data: inner === "null" ? null : inner,
  };
}

/**
 * The hash the next entry of a run chains from, given its journal as stored: the last entry's
 * hash, or (when entries carry none) the chain computed over them.
 */
export function chainHead(
  run: Pick<RunRecord, "id" | "workflow" | "version" | "input">,
  stored: readonly JournalEntry[],
): string {
  const last = stored[stored.length - 1];
  const lastHash = last === undefined ? null : unchained(last.data).hash;
  if (lastHash !== null) return lastHash;
  let head = creationHash(run);
  for (const entry of stored) {
    const { hash, data } = unchained(entry.data);
    head = hash ?? entryHash(head, { ...entry, data });
  }
  return head;
}

/** One finding of a journal's hash-chain check (`engine.verify`, `endure verify`). */
export interface ChainProblem {
  /** The entry's place in the journal as read (1, 2, 3, ...). */
  readonly seq: number;
  readonly type: EntryType;
  readonly key: string | null;
  /** What is wrong, in a sentence. */
  readonly problem: string;
}

/** What `engine.verify(runId)` found. */
export interface VerifyReport {
  readonly runId: string;
  /** True when every entry that carries a hash follows the one before it, and nothing is missing. */
  readonly ok: boolean;
  readonly entries: number;
  /** Entries that carry a hash. Entries written without hash chaining carry none. */
  readonly chained: number;
  /**
   * The hash of the last entry as stored (null when it carries none): keep it outside the
   * database to notice later a rewrite of the whole chain.
   */
  readonly head: string | null;
  readonly problems: readonly ChainProblem[];
}

/** Statuses whose journal ends with a known entry: a journal that does not was cut short. */
const END_ENTRY: Partial<Record<RunRecord["status"], EntryType>> = {
  completed: "run_completed",
  failed: "run_failed",
  cancelled: "run_cancelled",
  timed_out: "run_timed_out",
};

/**
 * Checks a run's journal, as stored (entries with their chain envelopes), against its chain:
 * every entry that carries a hash must have the hash of its content after the entry before it
 * (the first after the run's creation); once entries carry hashes, every later one must; and
 * an ended run's journal must end with its end entry.
 */
export function verifyChain(run: RunRecord, stored: readonly JournalEntry[]): VerifyReport {
  const problems: ChainProblem[] = [];
  let expected = creationHash(run);
  let chainedCount = 0;
  let sawChain = false;
  for (const entry of stored) {
    const { hash, data } = unchained(entry.data);
    const own = entryHash(expected, { ...entry, data });
    const where = { seq: entry.seq, type: entry.type, key: entry.key };
    if (hash === null) {
      if (sawChain)
        problems.push({
          ...where,
          problem: "carries no hash although the entries before it do: its hash was removed",
        });
    } else {
      chainedCount++;
      if (hash !== own) {
        problems.push({
          ...where,
          problem:
            entry.seq === 1 && !sawChain
              ? "does not follow the run's creation: it, or the run's id, workflow, version or input, was changed"
              : "does not follow the entry before it: it was edited, or entries before it were removed or moved",
        });
      }
      sawChain = true;
    }
    // The chain goes on from what the entry should hash to, so that one change is reported once.
    expected = hash !== null && hash !== own ? hash : own;
  }
  const end = END_ENTRY[run.status];
  const last = stored[stored.length - 1];
  if (end !== undefined && last !== undefined && last.type !== end && sawChain) {
    problems.push({
      seq: last.seq,
      type: last.type,
      key: last.key,
      problem: `is the last entry, but the run is ${run.status} and its journal must end with ${end}: entries after it were removed`,
    });
  }
  return {
    runId: run.id,
    ok: problems.length === 0,
    entries: stored.length,
    chained: chainedCount,
    head: last === undefined ? null : unchained(last.data).hash,
    problems,
  };
}
