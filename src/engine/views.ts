// What users see of runs and journals: decoded values and Dates instead of store rows.
import { plainValue } from "../core/error-data.js";
import { RunCancelledError, RunShreddedError } from "../core/errors.js";
import type { EntryType, JournalEntry } from "../core/journal.js";
import { decodeValue, SHREDDED_TEXT } from "../core/serialize.js";
import type { RunStatus } from "../core/types.js";
import type { RunUsage } from "../core/usage.js";
import type { RunRecord } from "../store/store.js";

/** A run as users see it. */
export interface RunInfo<O = unknown> {
  readonly id: string;
  readonly workflow: string;
  readonly version: string | null;
  readonly status: RunStatus;
  readonly input: unknown;
  /** The output, once completed. */
  readonly output: O | undefined;
  /** The error, once failed or cancelled. */
  readonly error: Error | undefined;
  /** Why the run is paused (`non_determinism`, `crash_loop`), if it is. */
  readonly pausedReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly endedAt: Date | null;
  /** When a waiting run's timer wakes it. */
  readonly wakeAt: Date | null;
  /** Runs of higher priority are claimed first. */
  readonly priority: number;
  /** The key its workflow's concurrency limit counts it under (`""`: the whole workflow). */
  readonly concurrencyKey: string | null;
  /** Tokens, cost and count of the run's metered steps (model calls) so far. */
  readonly usage: RunUsage;
  /** A cancellation asked for and not yet carried out. */
  readonly cancelRequested: {
    readonly reason: string;
    readonly kind: "cancelled" | "timed_out";
  } | null;
  /** When the run must end (its workflow's `ttl`), if it has one. */
  readonly deadlineAt: Date | null;
  /** The run that started this one with `ctx.invoke` or `ctx.startChild`, or null. */
  readonly parentId: string | null;
}

/** One journal entry as users see it. */
export interface JournalRecord {
  /** Position in the run's journal, from 1. */
  readonly seq: number;
  readonly type: EntryType;
  readonly at: Date;
  /** Position of the operation in the workflow's call order, if the entry belongs to one. */
  readonly position: number | null;
  /** The operation's name and occurrence, such as `enrich#3`. */
  readonly key: string | null;
  /**
   * Decoded details: a step's result or error, its attempt, a sleep's wake-up time, ... Errors
   * in it are plain data (`ErrorRecord`: name, code, message, `props` with their class's fields), so a
   * record prints and serializes to JSON as it reads.
   */
  readonly data: unknown;
  /** True for an entry a later rewind superseded (see `engine.rewind`): kept as history,
   * no longer part of what the run replays. */
  readonly superseded?: true;
  /** The journal segment the entry belongs to: 1, then 2, 3, ... after each
   * `ctx.continueAsNew` (a `run_continued` entry starts its segment). */
  readonly segment: number;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** Decodes a stored run. */
export function toRunInfo<O = unknown>(run: RunRecord): RunInfo<O> {
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    input: decodeValue(run.input),
    output: run.output === null ? undefined : (decodeValue(run.output) as O),
    error: run.error === null ? undefined : (decodeValue(run.error) as Error),
    pausedReason: run.pausedReason,
    createdAt: new Date(run.createdAt),
    updatedAt: new Date(run.updatedAt),
    endedAt: date(run.endedAt),
    wakeAt: date(run.wakeAt),
    priority: run.priority,
    concurrencyKey: run.concurrencyKey,
    usage: run.usage,
    cancelRequested: run.cancelRequested,
    deadlineAt: date(run.deadlineAt),
    parentId: run.parentId,
  };
}

/** Decodes a journal entry. */
export function toJournalRecord(
  entry: JournalEntry,
  superseded = false,
  segment = 1,
): JournalRecord {
  return {
    seq: entry.seq,
    segment,
    type: entry.type,
    at: new Date(entry.at),
    position: entry.position,
    key: entry.key,
    data: entry.data === null ? null : plainValue(decodeValue(entry.data)),
    ...(superseded ? { superseded: true as const } : {}),
  };
}

/** The output of an ended run, or its error thrown. */
export function outcomeOf<O>(status: RunStatus, output: string | null, error: string | null): O {
  const shredded = (output ?? error) === SHREDDED_TEXT;
  if (shredded) {
    throw new RunShreddedError(
      `the run ended as ${status}, and was shredded since: its ${status === "completed" ? "output" : "error"} can no longer be read`,
    );
  }
  if (status === "completed") return (output === null ? undefined : decodeValue(output)) as O;
  if (error !== null) throw decodeValue(error) as Error;
  throw new RunCancelledError(`the run ended as ${status}`);
}
