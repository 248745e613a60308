// Rewind and fork: re-opening an ended run from a chosen step after a bug fix, and starting a
// new run that shares a run's journal up to a step, optionally with that step's output edited.
import type { Clock } from "../core/clock.js";
import { entryData, readEntryData } from "../core/entry-data.js";
import {
  InvalidArgumentError,
  PositionNotFoundError,
  RunActiveError,
  RunNotFoundError,
} from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { LABEL_LENGTH_MAX } from "../core/limits.js";
import { journalForReplay, supersededBy } from "../core/retry-journal.js";
import { checkPayloadSize, encodeValue } from "../core/serialize.js";
import { recordedVersion } from "../core/shapes.js";
import { checkRunId, checkText } from "../core/text.js";
import { TERMINAL_STATUSES } from "../core/types.js";
import type { RunRecord, Store } from "../store/store.js";
import { newRunId } from "../worker/ids.js";
import type { Worker } from "../worker/worker.js";
import type { Registry } from "./registry.js";
import { toRunInfo, type RunInfo } from "./views.js";

/** The parts of an engine a rewind or a fork needs. */
export interface RewindParts {
  readonly store: Store;
  readonly clock: Clock;
  readonly worker: Worker | null;
  readonly registry: Registry;
  readonly limits: { readonly payloadBytesMax: number };
}

/** A step of a run's journal: its key (`plan#2`), its name (its first occurrence, `plan`), or
 * its position in the run's call order. */
export type StepRef = string | number;

/** Options of `engine.rewind`. */
export interface RewindOptions {
  /** The step to run again from: it and everything after it run again. */
  toStep: StepRef;
  /** Who asked, recorded in the journal's `run_rewound` entry. Default `"request"`. */
  by?: string;
}

/** Options of `engine.fork`. */
export interface ForkOptions {
  /** The step the fork shares the journal up to, itself included. */
  atStep: StepRef;
  /** That step's output in the fork, instead of the one the run journaled. */
  output?: unknown;
  /** The fork's run id. Default: a new id. */
  id?: string;
  /** Who asked, recorded in the fork's `run_forked` entry. Default `"request"`. */
  by?: string;
}

const STEP_TYPES = new Set<JournalEntry["type"]>([
  "step_attempt_started",
  "step_attempt_failed",
  "step_verification_failed",
  "step_succeeded",
  "step_failed",
]);

/** What keys of a segment after the first end with (`plan#1@2`): a step named by its key
 * without it is found too. */
const SEGMENT_SUFFIX = /@\d+$/;

/** The step `ref` names in `view` (a journal as replay reads it), or a typed error. */
export function findStep(
  view: readonly JournalEntry[],
  ref: StepRef,
  runId: string,
  what: string,
): { key: string; position: number } {
  if (typeof ref === "number") {
    if (!Number.isSafeInteger(ref) || ref < 1)
      throw new InvalidArgumentError(`${what}: a position is a whole number from 1, got ${ref}`);
  } else if (typeof ref !== "string" || ref.length === 0) {
    throw new InvalidArgumentError(
      `${what}: name a step by its key ('plan#1'), its name ('plan') or its position (3)`,
    );
  }
  const key = typeof ref === "string" && !ref.includes("#") ? `${ref}#1` : ref;
  const found = view.find(
    (e) =>
      STEP_TYPES.has(e.type) &&
      e.position !== null &&
      (typeof key === "number"
        ? e.position === key
        : e.key === key || e.key?.replace(SEGMENT_SUFFIX, "") === key),
  );
  if (found === undefined || found.position === null || found.key === null) {
    const steps = [...new Set(view.filter((e) => STEP_TYPES.has(e.type)).map((e) => e.key))];
    throw new PositionNotFoundError(
      `${what}: run ${runId} has no step ${typeof ref === "number" ? `at position ${ref}` : `'${String(key)}'`} ` +
        `in its journal; its steps are ${steps.length === 0 ? "none" : steps.slice(0, 20).join(", ")}`,
    );
  }
  const cancelAt = view.find((e) => e.type === "run_cancel_requested")?.seq ?? Infinity;
  if (found.seq > cancelAt) {
    throw new PositionNotFoundError(
      `${what}: step '${found.key}' of run ${runId} ran in its cancellation cleanup; name a ` +
        "step from before the cancellation",
    );
  }
  return { key: found.key, position: found.position };
}

async function runOf(store: Store, runId: string, what: string): Promise<RunRecord> {
  checkRunId(runId);
  const run = await store.getRun(runId);
  if (run === null) throw new RunNotFoundError(`cannot ${what}: no run has the id '${runId}'`);
  return run;
}

function byOf(by: unknown): string {
  if (by === undefined) return "request";
  checkText(by, "by", LABEL_LENGTH_MAX);
  return by;
}

/**
 * Re-opens an ended run from step `toStep`: the steps before it are answered from the
 * journal, it and everything after run again. The journal keeps what happened; the
 * `run_rewound` entry marks what it supersedes.
 */
export async function rewindRun(
  parts: RewindParts,
  runId: string,
  options: RewindOptions,
): Promise<RunInfo> {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError("rewind needs options { toStep }");
  const by = byOf(options.by);
  const run = await runOf(parts.store, runId, "rewind");
  if (!TERMINAL_STATUSES.has(run.status)) throw active(run);
  const view = journalForReplay(await parts.store.readJournal(runId));
  const step = findStep(view, options.toStep, runId, "rewind toStep");
  const entry: NewEntry = {
    type: "run_rewound",
    at: parts.clock.now(),
    position: null,
    key: null,
    data: entryData.run_rewound({ by, step: step.key, position: step.position }),
  };
  const result = await parts.store.rewind(
    runId,
    { entry, fromPosition: step.position },
    parts.clock.now(),
  );
  if (result.kind === "not_found")
    throw new RunNotFoundError(`cannot rewind: no run has the id '${runId}'`);
  if (result.kind === "not_paused") throw active(result.run);
  parts.worker?.kick();
  return toRunInfo(result.run);
}

function active(run: RunRecord): RunActiveError {
  return new RunActiveError(
    `run ${run.id} is ${run.status}; only a run that ended (completed, failed, cancelled or ` +
      "timed out) can be rewound. Cancel it first (engine.cancel), then rewind it, or fork it " +
      "to try another path beside it",
  );
}

/**
 * Starts a new run of the same workflow, version and input whose journal is the run's up to
 * step `atStep` (itself included, with `output` as its result when given): the fork answers
 * those steps from the journal and runs everything after them.
 */
export async function forkRun(
  parts: RewindParts,
  runId: string,
  options: ForkOptions,
): Promise<RunInfo> {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError("fork needs options { atStep, output? }");
  const by = byOf(options.by);
  const now = parts.clock.now();
  const id = options.id ?? newRunId(now);
  checkRunId(id, "fork id");
  const parent = await runOf(parts.store, runId, "fork");
  const view = journalForReplay(await parts.store.readJournal(runId));
  const step = findStep(view, options.atStep, runId, "fork atStep");
  const edited = "output" in options;
  const shared = sharedEntries(view, step.position);
  if (edited) {
    const what = `fork output of step '${step.key}'`;
    const encoded = encodeValue(options.output, what);
    checkPayloadSize(encoded, parts.limits.payloadBytesMax, what);
    editOutput(shared, step, encoded, shapeOf(parts.registry, parent, step.key));
  }
  const started = view.find((e) => e.type === "run_started");
  const startedData =
    started === undefined
      ? entryData.run_started({ workflow: parent.workflow, version: parent.version })
      : entryData.run_started({
          workflow: parent.workflow,
          version: parent.version,
          ...pick(readEntryData(started, "run_started")),
        });
  const forked: NewEntry = {
    type: "run_forked",
    at: now,
    position: null,
    key: null,
    data: entryData.run_forked({
      by,
      from: runId,
      step: step.key,
      position: step.position,
      edited,
    }),
  };
  const result = await parts.store.fork(
    {
      id,
      workflow: parent.workflow,
      version: parent.version,
      input: parent.input,
      started: { type: "run_started", at: now, position: null, key: null, data: startedData },
      claim: null,
      priority: parent.priority,
      concurrencyKey: parent.concurrencyKey,
      deadlineAt: parent.deadlineAt === null ? null : now + (parent.deadlineAt - parent.createdAt),
    },
    [forked, ...shared],
    now,
  );
  if (!result.created) {
    throw new InvalidArgumentError(
      `fork id '${id}' is taken by another run; choose another id, or leave it out for a new one`,
    );
  }
  parts.worker?.kick();
  return toRunInfo(result.run);
}

/** What a fork keeps of its parent's `run_started`: the trigger (not the trace: the fork is
 * a new run, started in its own). */
function pick(d: { trigger?: string }): { trigger?: string } {
  return d.trigger === undefined ? {} : { trigger: d.trigger };
}

/** The entries of the operations before `position` and of the step at it, in journal order. */
function sharedEntries(view: readonly JournalEntry[], position: number): NewEntry[] {
  const beyond = supersededBy(view, position + 1);
  return view
    .filter(
      // A run that continued as new shares its segment's start: the fork replays that segment.
      (e, i) =>
        (e.position !== null || (i === 0 && e.type === "run_continued")) && !beyond.has(e.seq),
    )
    .map((e) => ({ type: e.type, at: e.at, position: e.position, key: e.key, data: e.data }));
}

/** Makes the step's last entry a success with `encoded` as its result. */
function editOutput(
  entries: NewEntry[],
  step: { key: string; position: number },
  encoded: string,
  shape: number | undefined,
): void {
  const mine = entries.filter((e) => e.position === step.position);
  const settled = mine.findIndex((e) => e.type === "step_succeeded" || e.type === "step_failed");
  const attempts = mine.filter((e) => e.type === "step_attempt_started").length;
  const last = mine[mine.length - 1];
  const succeeded: NewEntry = {
    type: "step_succeeded",
    at: last?.at ?? 0,
    position: step.position,
    key: step.key,
    data: entryData.step_succeeded({
      attempt: Math.max(attempts, 1),
      usage: undefined,
      shape,
      result: encoded,
    }),
  };
  if (settled >= 0) {
    const at = entries.indexOf(mine[settled] as NewEntry);
    entries[at] = { ...succeeded, at: (mine[settled] as NewEntry).at };
  } else {
    const at = last === undefined ? entries.length : entries.indexOf(last) + 1;
    entries.splice(at, 0, succeeded);
  }
}

/** The shape version the registered workflow declares for the step's results, if any. */
function shapeOf(registry: Registry, run: RunRecord, key: string): number | undefined {
  const wf = registry.versions.get(run.workflow)?.get(run.version);
  const name = key.slice(0, key.lastIndexOf("#"));
  return recordedVersion(wf?.options.results?.[name]);
}
