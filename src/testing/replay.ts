// Replay checks: runs a workflow's code against a journal it (or an older version of it)
// recorded, without executing anything, and reports the first place where the two part ways.
import { readEntryData } from "../core/entry-data.js";
import { InvalidArgumentError, isEndureError, type NonDeterminismError } from "../core/errors.js";
import { ENTRY_TYPE_SET, type EntryType, type JournalEntry } from "../core/journal.js";
import { journalForReplay } from "../core/retry-journal.js";
import { segmentInput } from "../core/segments.js";
import { RunExecution, type FrontierOp } from "../core/run-execution.js";
import type { RunOutcome } from "../core/run-port.js";
import { decodeValue } from "../core/serialize.js";
import type { Workflow } from "../core/workflow.js";
import { MemoryPort } from "./memory-port.js";

/** Turns of the event loop without progress after which a replay is taken to have stopped. */
export const REPLAY_IDLE_TURNS = 5;

/** The run a journal file was exported from, as its first line records it. */
export interface JournalFileRun {
  readonly id: string;
  readonly workflow: string;
  readonly version: string | null;
  readonly status: string;
  /** The run's input, encoded as the store keeps it. */
  readonly input: string;
}

/** A journal read from a JSON Lines file (see {@link parseJournalFile}). */
export interface JournalFile {
  readonly run: JournalFileRun | null;
  readonly entries: readonly JournalEntry[];
}

/** Where the code and the journal part ways. */
export interface ReplayDivergence {
  /** The operation's position in the run's call order (1 for the first call). */
  readonly position: number;
  /** What the journal recorded there (`step 'plan#1'`), or `nothing`. */
  readonly recorded: string;
  /** What the code asked for instead. */
  readonly asked: string;
  /** Where the journal's call was made, when it was recorded (`file:line:column`). */
  readonly recordedSite: string | null;
  /** Where the code made its call, when known. */
  readonly askedSite: string | null;
  readonly message: string;
}

/** How the code stood when the replay stopped. */
export type ReplayEnd =
  | { readonly kind: "completed"; readonly output: unknown }
  | { readonly kind: "failed"; readonly error: Error }
  | { readonly kind: "cancelled" | "timed_out" }
  /** The code went past the journal: `next` is the first operation it has no result for. */
  | { readonly kind: "waiting"; readonly next: FrontierOp | null }
  | { readonly kind: "diverged" }
  /** A journaled payload could not be brought up to its shape: the run would pause. */
  | { readonly kind: "upcast_failed"; readonly error: Error }
  /** The code called `ctx.continueAsNew` with `input`: the run would carry on in a fresh
   * journal segment. */
  | { readonly kind: "continued"; readonly input: unknown };

/** What {@link replayJournal} found. */
export interface ReplayReport {
  /** True when the code asked for exactly what the journal recorded, in order, and every
   * journaled payload was brought up to the shape the code declares. */
  readonly ok: boolean;
  readonly runId: string;
  readonly workflow: string;
  /** Entries in the journal. */
  readonly entries: number;
  readonly divergence: ReplayDivergence | null;
  readonly end: ReplayEnd;
}

/** Options of {@link replayJournal}. */
export interface ReplayOptions {
  /** The run's input; default the input a journal file's first line records. */
  readonly input?: unknown;
}

/**
 * Runs `workflow` against a journal, as a recovery would, but executes nothing: every step,
 * sleep and wait is answered from the journal, and the replay stops where the journal does.
 * Reports the first divergence (position, what was recorded, what the code asked for, and
 * where each call was made), so that a test or a CI can check a code change against
 * journals exported from production (`endure export --replayable`).
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { parseJournalFile, replayJournal } from "endure/testing";
 *
 * const journal = parseJournalFile(readFileSync("runs/lead-42.jsonl", "utf8"));
 * const report = await replayJournal(research, journal);
 * if (!report.ok) throw new Error(report.divergence?.message);
 * ```
 */
export async function replayJournal<I, O>(
  workflow: Workflow<I, O>,
  journal: JournalFile | readonly JournalEntry[],
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const wf = workflow as unknown as Workflow<unknown, unknown>;
  const file: JournalFile = Array.isArray(journal)
    ? { run: null, entries: journal as readonly JournalEntry[] }
    : (journal as JournalFile);
  const entries = file.entries;
  const recordedWorkflow = startedWorkflow(entries) ?? file.run?.workflow ?? null;
  if (recordedWorkflow !== null && recordedWorkflow !== wf.name) {
    throw new InvalidArgumentError(
      `the journal is of workflow '${recordedWorkflow}', not '${wf.name}'; replay it with ` +
        `the workflow that recorded it`,
    );
  }
  const runId = file.run?.id ?? entries[0]?.runId ?? "replayed-run";
  const replayed = journalForReplay(entries);
  // A run that continued as new replays its newest segment, with that segment's input.
  const input =
    "input" in options
      ? options.input
      : segmentInput(replayed, () => (file.run === null ? undefined : decodeValue(file.run.input)));
  let next: FrontierOp | null = null;
  const port = new MemoryPort({ journal: entries });
  const execution = new RunExecution(wf, { runId, input, journal: replayed }, port, {
    frontier: (op) => (next ??= op),
  });
  const outcome = await Promise.race([execution.outcome, stopped(execution)]);
  execution.halt(null);
  const divergence = outcome !== null && outcome.kind === "paused" ? divergenceOf(outcome) : null;
  const end = endOf(outcome, next);
  return {
    ok: divergence === null && end.kind !== "upcast_failed",
    runId,
    workflow: wf.name,
    entries: entries.length,
    divergence,
    end,
  };
}

/** Resolves null once the code has stopped asking (nothing left to hand it, a few turns idle). */
async function stopped(execution: RunExecution): Promise<null> {
  let idle = 0;
  let calls = -1;
  while (idle < REPLAY_IDLE_TURNS) {
    await new Promise((r) => setImmediate(r));
    if (execution.ended) return null;
    const busy = execution.replaying || execution.calls !== calls;
    calls = execution.calls;
    idle = busy ? 0 : idle + 1;
  }
  return null;
}

function startedWorkflow(entries: readonly JournalEntry[]): string | null {
  const started = entries.find((e) => e.type === "run_started");
  return started === undefined ? null : readEntryData(started, "run_started").workflow;
}

function divergenceOf(outcome: Extract<RunOutcome, { kind: "paused" }>): ReplayDivergence | null {
  const data = readEntryData(outcome.entry, "run_paused");
  const error = data.error;
  if (!isEndureError(error, "non_determinism")) return null;
  const e = error as NonDeterminismError;
  return {
    position: e.position,
    recorded: e.recorded,
    asked: e.requested,
    recordedSite: e.recordedSite ?? null,
    askedSite: e.requestedSite ?? null,
    message: e.message,
  };
}

function endOf(outcome: RunOutcome | null, next: FrontierOp | null): ReplayEnd {
  if (outcome === null) return { kind: "waiting", next };
  switch (outcome.kind) {
    case "completed":
      return { kind: "completed", output: decodeValue(outcome.output) };
    case "failed":
      return { kind: "failed", error: decodeValue(outcome.error) as Error };
    case "cancelled":
      return { kind: outcome.status };
    case "paused":
      if (outcome.code === "upcast_failed") {
        const error = readEntryData(outcome.entry, "run_paused").error as Error;
        return { kind: "upcast_failed", error };
      }
      return { kind: "diverged" };
    case "continued":
      return { kind: "continued", input: readEntryData(outcome.entry, "run_continued").input };
    case "halted":
      return { kind: "waiting", next };
  }
}

const ENTRY_TYPES: ReadonlySet<string> = new Set(Object.keys(ENTRY_TYPE_SET));

/**
 * Reads a journal file: JSON Lines, an optional first line `{"run": {...}}` (the run's id,
 * workflow, version, status and encoded input), then one entry a line with its `data` as the
 * store keeps it, the format `endure export --replayable` prints. Throws an
 * InvalidArgumentError naming the line of a truncated or malformed file.
 */
export function parseJournalFile(text: string, source = "the journal file"): JournalFile {
  let run: JournalFileRun | null = null;
  const entries: JournalEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const where = `${source}, line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new InvalidArgumentError(
        `${where} is not JSON (${(e as Error).message}); a journal file holds one JSON ` +
          "object a line, as `endure export --replayable` prints it (a cut file misses its end)",
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new InvalidArgumentError(`${where} is not a JSON object`);
    const record = value as Record<string, unknown>;
    if ("run" in record && !("type" in record)) {
      if (entries.length > 0 || run !== null)
        throw new InvalidArgumentError(`${where}: the run line must come first, and once`);
      run = runOf(record["run"], where);
      continue;
    }
    entries.push(entryOf(record, run?.id ?? null, entries.length + 1, where));
  }
  if (entries.length === 0) throw new InvalidArgumentError(`${source} holds no journal entries`);
  return { run, entries };
}

function runOf(value: unknown, where: string): JournalFileRun {
  const r = (value ?? {}) as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof r[k] !== "string")
      throw new InvalidArgumentError(`${where}: the run's '${k}' must be a string`);
    return r[k];
  };
  return {
    id: str("id"),
    workflow: str("workflow"),
    version: typeof r["version"] === "string" ? r["version"] : null,
    status: str("status"),
    input: str("input"),
  };
}

function entryOf(
  r: Record<string, unknown>,
  runId: string | null,
  seq: number,
  where: string,
): JournalEntry {
  const type = r["type"];
  if (typeof type !== "string" || !ENTRY_TYPES.has(type))
    throw new InvalidArgumentError(`${where}: '${String(type)}' is not a journal entry type`);
  const at = typeof r["at"] === "string" ? Date.parse(r["at"]) : r["at"];
  if (typeof at !== "number" || !Number.isFinite(at))
    throw new InvalidArgumentError(`${where}: 'at' must be epoch milliseconds or an ISO date`);
  const position = r["position"] ?? null;
  const key = r["key"] ?? null;
  const data = r["data"] ?? null;
  if (position !== null && typeof position !== "number")
    throw new InvalidArgumentError(`${where}: 'position' must be a number or null`);
  if (key !== null && typeof key !== "string")
    throw new InvalidArgumentError(`${where}: 'key' must be a string or null`);
  if (data !== null && typeof data !== "string") {
    throw new InvalidArgumentError(
      `${where}: 'data' is not the stored text; export the run with ` +
        "`endure export --replayable` (the plain export decodes it for people, losing types)",
    );
  }
  return {
    seq: typeof r["seq"] === "number" ? r["seq"] : seq,
    runId: typeof r["runId"] === "string" ? r["runId"] : (runId ?? "replayed-run"),
    type: type as EntryType,
    at,
    position,
    key,
    data,
  };
}

/** A journal as a journal file's text (see {@link parseJournalFile}). */
export function formatJournalFile(
  run: JournalFileRun | null,
  entries: readonly JournalEntry[],
): string {
  const lines = run === null ? [] : [JSON.stringify({ run })];
  for (const e of entries) {
    lines.push(
      JSON.stringify({
        seq: e.seq,
        type: e.type,
        at: e.at,
        position: e.position,
        key: e.key,
        data: e.data,
      }),
    );
  }
  return lines.join("\n") + "\n";
}
