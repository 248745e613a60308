// Deterministic: the one definition of what every journal entry's `data` holds. Writers build
// it with `entryData.<type>(...)`, readers get it back typed with `readEntryData(entry, type)`.
//
// Format rules (journals written by every earlier version must stay readable):
// - `data` is null, or JSON text that `decodeValue` reads (see `serialize.ts`). Fields named
//   `result`, `output`, `error`, `input` and `policy` hold values encoded by `encodeValue`; the others
//   are plain JSON numbers, strings, arrays and objects.
// - Fields are only ever added, and an added field is optional: a reader of today accepts
//   data written before the field existed, and ignores fields it does not know.
// - The first field of a step entry is `attempt` (or `attempts`), and a wait's is `kind`, so
//   that observers can read them without decoding the whole payload (see the `peek` readers).
// - Writers append a value already encoded as it is (no second encoding of a large result).
import { StoreCorruptError } from "./errors.js";
import type { EntryType, JournalEntry } from "./journal.js";
import type { CanonicalMatch } from "./match.js";
import type { WaitKind, WaitOutcome } from "./run-port.js";
import { decodeValue } from "./serialize.js";
import type { Cancellation } from "./types.js";
import type { Usage } from "./usage.js";

/** Text made by `encodeValue`: a journaled value, appended to entry data as it is. */
export type Encoded = string;

/** A journaled error, decoded: usually an `Error`, whatever the code threw otherwise. */
type Thrown = unknown;

/** What each entry type's `data` holds, decoded. Optional fields may be absent in old journals. */
export interface EntryDataMap {
  run_started: {
    workflow: string;
    version: string | null;
    /** The W3C traceparent the run was started in. */
    trace?: string;
    /** What started the run when a trigger did (`event 'order.paid' (id ...)`, a schedule). */
    trigger?: string;
    /** Who started it, when a person or a caller of the API did (`StartOptions.by`). */
    by?: string;
  };
  run_recovered: { worker: string; recoveries: number; span?: string };
  /** `by` is set when a person asked for the resume (a worker taking a run back leaves it
   * out); `version` when the run moved to that version of its workflow. */
  run_resumed: { by?: string; version?: string | null; span?: string };
  run_retried: { by: string };
  /** Who re-opened the run from step `step` (its key) at `position`: every entry of that
   * position and after, and the run's end, written before this one are superseded. */
  run_rewound: { by: string; step: string; position: number };
  /** The run was forked by `by` from run `from`, sharing its journal up to step `step` (at
   * `position`), whose output was replaced when `edited`. */
  run_forked: { by: string; from: string; step: string; position: number; edited: boolean };
  run_suspended: { wakeAt: number; span?: string };
  /**
   * The run carried on in a fresh journal segment (`ctx.continueAsNew`): it starts segment
   * `segment` (2, 3, ...) with `input`; replay reads the journal from here. Operations of the
   * new segment take positions after `positions`, the highest one used before.
   */
  run_continued: { segment: number; positions: number; input: unknown };
  /** The run reached its journal limit of `entries` entries: it undoes its steps and fails. */
  run_limit_reached: { entries: number };
  step_attempt_started: { attempt: number; site?: string };
  step_attempt_failed: StepRetryData;
  step_verification_failed: StepRetryData;
  /** `shape`: the version of the result's shape (see `PayloadShape`), when it is past 1. */
  step_succeeded: { attempt: number; usage?: Usage; shape?: number; result: unknown };
  step_failed: { attempts: number; error: Thrown };
  /** The value `ctx.now()`, `ctx.random()` or `ctx.uuid()` returned. */
  value_recorded: number | string;
  /** The run took the new branch of patch `key` (`ctx.patched`); `deprecated` when the code
   * that passed it had retired the patch (`ctx.deprecatePatch`). */
  patch_applied: { deprecated?: boolean };
  /** A memory key as read: its version (0 when it had none) and value, if it had one. */
  memory_read: { namespace: string; key: string; version: number; value?: unknown };
  /** A memory key as written, at its new version. */
  memory_written: { namespace: string; key: string; version: number; value: unknown };
  /** An update's function threw, or made a value that cannot be kept: nothing was written. */
  memory_failed: { error: Thrown };
  sleep_started: { wakeAt: number; site?: string };
  sleep_completed: null;
  /** The sleep lost a combinator (`by`, its key) and was withdrawn. */
  sleep_cancelled: { by: string };
  wait_started: {
    kind: WaitKind;
    target: string;
    timeoutAt: number;
    match?: CanonicalMatch;
    policy?: unknown[];
    site?: string;
    /** A child wait's workflow (the target is the child run's id). */
    workflow?: string;
  };
  wait_reminded: WaitRungData;
  wait_escalated: WaitRungData;
  /**
   * `shape`: the version of the received event data's shape, when it is past 1. `error` is set
   * when the code is handed a failure (a child run that did not complete).
   */
  wait_completed: {
    status: WaitOutcome["status"];
    shape?: number;
    result: unknown;
    error?: Thrown;
  };
  /** The wait lost a combinator (`by`, its key) and was withdrawn from the store. */
  wait_cancelled: { by: string };
  /** A combinator was decided: its winners, by index in its input, and whether it succeeded. */
  combinator_settled: { winners: number[]; ok: boolean };
  /** A combinator lost an enclosing one (`by`) and was withdrawn with what it waited on. */
  combinator_cancelled: { by: string };
  run_cancel_requested: Cancellation;
  run_completed: { output: unknown };
  run_failed: { error: Thrown };
  run_cancelled: { reason: string; cleanupErrors?: string[] };
  run_timed_out: { reason: string; cleanupErrors?: string[] };
  /** `reason` is a short kind (`non_determinism`, `crash_loop`, ...); `error` or `message` why. */
  run_paused: { reason: string; message?: string; error?: Thrown };
}

/** A failed attempt that will be retried at `retryAt`. */
export interface StepRetryData {
  attempt: number;
  attempts: number;
  retryAt: number;
  delayMs: number;
  error: Thrown;
}

/** A rung of a wait's policy that was applied: the event it sent, and who it escalated to. */
export interface WaitRungData {
  rung: number;
  event: string;
  to?: string[];
}

const str = (v: unknown): string => JSON.stringify(v);

/** `{"k":v,...}` from fields already as JSON text, in order; undefined fields are left out. */
function object(fields: Record<string, string | undefined>): string {
  let out = "";
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    out += `${out === "" ? "" : ","}${str(key)}:${value}`;
  }
  return `{${out}}`;
}

const opt = <T>(v: T | undefined | null, f: (v: T) => string): string | undefined =>
  v === undefined || v === null ? undefined : f(v);

/** Builds each entry type's `data`. Value fields take text encoded by `encodeValue`. */
export const entryData = {
  run_started: (d: EntryDataMap["run_started"]): string =>
    object({
      workflow: str(d.workflow),
      version: str(d.version),
      trace: opt(d.trace, str),
      trigger: opt(d.trigger, str),
      by: opt(d.by, str),
    }),
  run_recovered: (d: { worker: string; recoveries: number }): string =>
    object({ worker: str(d.worker), recoveries: str(d.recoveries) }),
  run_resumed: (d: { by?: string; version?: string | null }): string | null =>
    d.by === undefined && d.version === undefined
      ? null
      : object({
          by: opt(d.by, str),
          version: d.version === undefined ? undefined : str(d.version),
        }),
  run_retried: (d: { by: string }): string => object({ by: str(d.by) }),
  run_rewound: (d: { by: string; step: string; position: number }): string =>
    object({ by: str(d.by), step: str(d.step), position: str(d.position) }),
  run_forked: (d: {
    by: string;
    from: string;
    step: string;
    position: number;
    edited: boolean;
  }): string =>
    object({
      by: str(d.by),
      from: str(d.from),
      step: str(d.step),
      position: str(d.position),
      edited: str(d.edited),
    }),
  run_suspended: (d: { wakeAt: number }): string => object({ wakeAt: str(d.wakeAt) }),
  run_continued: (d: { segment: number; positions: number; input: Encoded }): string =>
    object({ segment: str(d.segment), positions: str(d.positions), input: d.input }),
  run_limit_reached: (d: { entries: number }): string => object({ entries: str(d.entries) }),
  step_attempt_started: (d: { attempt: number; site: string | null }): string =>
    object({ attempt: str(d.attempt), site: opt(d.site, str) }),
  step_attempt_failed: (d: StepRetryInput): string => stepRetry(d),
  step_verification_failed: (d: StepRetryInput): string => stepRetry(d),
  step_succeeded: (d: {
    attempt: number;
    usage: Usage | undefined;
    shape?: number | undefined;
    result: Encoded;
  }): string =>
    object({
      attempt: str(d.attempt),
      usage: opt(d.usage, str),
      shape: opt(d.shape, str),
      result: d.result,
    }),
  step_failed: (d: { attempts: number; error: Encoded }): string =>
    object({ attempts: str(d.attempts), error: d.error }),
  value_recorded: (value: number | string): string => str(value),
  patch_applied: (d: { deprecated: boolean }): string | null =>
    d.deprecated ? object({ deprecated: "true" }) : null,
  memory_read: (d: { namespace: string; key: string; version: number; value: Encoded | null }) =>
    object({
      namespace: str(d.namespace),
      key: str(d.key),
      version: str(d.version),
      value: d.value ?? undefined,
    }),
  memory_written: (d: { namespace: string; key: string; version: number; value: Encoded }) =>
    object({
      namespace: str(d.namespace),
      key: str(d.key),
      version: str(d.version),
      value: d.value,
    }),
  memory_failed: (d: { error: Encoded }): string => object({ error: d.error }),
  sleep_started: (d: { wakeAt: number; site: string | null }): string =>
    object({ wakeAt: str(d.wakeAt), site: opt(d.site, str) }),
  sleep_completed: (): null => null,
  sleep_cancelled: (d: { by: string }): string => object({ by: str(d.by) }),
  wait_started: (d: {
    kind: WaitKind;
    target: string;
    timeoutAt: number;
    match: CanonicalMatch | null;
    /** The policy's rungs, encoded. */
    policy: Encoded | null;
    site: string | null;
    workflow?: string;
  }): string =>
    object({
      kind: str(d.kind),
      target: str(d.target),
      timeoutAt: str(d.timeoutAt),
      match: opt(d.match, str),
      policy: d.policy ?? undefined,
      site: opt(d.site, str),
      workflow: opt(d.workflow, str),
    }),
  wait_reminded: (d: WaitRungData): string => waitRung(d),
  wait_escalated: (d: WaitRungData): string => waitRung(d),
  wait_completed: (d: {
    status: WaitOutcome["status"];
    shape?: number | undefined;
    result: Encoded | null;
    error?: Encoded;
  }): string =>
    object({
      status: str(d.status),
      shape: opt(d.shape, str),
      result: d.result ?? "null",
      error: d.error,
    }),
  wait_cancelled: (d: { by: string }): string => object({ by: str(d.by) }),
  combinator_settled: (d: { winners: readonly number[]; ok: boolean }): string =>
    object({ winners: str(d.winners), ok: str(d.ok) }),
  combinator_cancelled: (d: { by: string }): string => object({ by: str(d.by) }),
  run_cancel_requested: (d: Cancellation): string =>
    object({ reason: str(d.reason), kind: str(d.kind), by: opt(d.by, str) }),
  run_completed: (d: { output: Encoded }): string => object({ output: d.output }),
  run_failed: (d: { error: Encoded }): string => object({ error: d.error }),
  run_cancelled: (d: { reason: string; cleanupErrors?: readonly string[] }): string => ended(d),
  run_timed_out: (d: { reason: string; cleanupErrors?: readonly string[] }): string => ended(d),
  run_paused: (d: { reason: string; message?: string; error?: Encoded }): string =>
    object({ reason: str(d.reason), message: opt(d.message, str), error: d.error }),
} satisfies { [T in EntryType]: (d: never) => string | null };

/** A failed attempt as {@link entryData} takes it: the error encoded. */
export interface StepRetryInput {
  attempt: number;
  attempts: number;
  retryAt: number;
  delayMs: number;
  error: Encoded;
}

function stepRetry(d: StepRetryInput): string {
  return object({
    attempt: str(d.attempt),
    attempts: str(d.attempts),
    retryAt: str(d.retryAt),
    delayMs: str(d.delayMs),
    error: d.error,
  });
}

function waitRung(d: WaitRungData): string {
  return object({ rung: str(d.rung), event: str(d.event), to: opt(d.to, str) });
}

function ended(d: { reason: string; cleanupErrors?: readonly string[] }): string {
  const errors = d.cleanupErrors;
  return object({
    reason: str(d.reason),
    cleanupErrors: errors === undefined || errors.length === 0 ? undefined : str(errors),
  });
}

/** Adds `"span":traceparent` (the stay in memory it began) to an entry's data. */
export function withSpan(data: string | null, traceparent: string | null): string | null {
  if (traceparent === null) return data;
  const span = `"span":${str(traceparent)}`;
  if (data === null) return `{${span}}`;
  return data.endsWith("}") ? `${data.slice(0, -1)}${data.length > 2 ? "," : ""}${span}}` : data;
}

// ---- reading --------------------------------------------------------------------------------

type Field =
  "number" | "string" | "string|null" | "boolean" | "value" | "array" | "object" | "strings";
type Shape = Record<string, Field | `${Field}?`>;

const STEP_RETRY: Shape = {
  attempt: "number",
  attempts: "number",
  retryAt: "number",
  delayMs: "number",
  error: "value",
};
const WAIT_RUNG: Shape = { rung: "number", event: "string", to: "strings?" };
const ENDED: Shape = { reason: "string", cleanupErrors: "strings?" };

/** What every entry type's data must hold: null (no data), a scalar, or an object's fields. */
const SHAPES: { [T in EntryType]: Shape | "null" | "scalar" } = {
  run_started: {
    workflow: "string",
    version: "string|null",
    trace: "string?",
    trigger: "string?",
    by: "string?",
  },
  run_recovered: { worker: "string", recoveries: "number", span: "string?" },
  run_resumed: { by: "string?", version: "string|null?", span: "string?" },
  run_retried: { by: "string" },
  run_rewound: { by: "string", step: "string", position: "number" },
  run_forked: {
    by: "string",
    from: "string",
    step: "string",
    position: "number",
    edited: "boolean",
  },
  run_suspended: { wakeAt: "number", span: "string?" },
  run_continued: { segment: "number", positions: "number", input: "value" },
  run_limit_reached: { entries: "number" },
  step_attempt_started: { attempt: "number", site: "string?" },
  step_attempt_failed: STEP_RETRY,
  step_verification_failed: STEP_RETRY,
  step_succeeded: { attempt: "number", usage: "object?", shape: "number?", result: "value" },
  step_failed: { attempts: "number", error: "value" },
  value_recorded: "scalar",
  patch_applied: { deprecated: "boolean?" },
  memory_read: { namespace: "string", key: "string", version: "number", value: "value?" },
  memory_written: { namespace: "string", key: "string", version: "number", value: "value" },
  memory_failed: { error: "value" },
  sleep_started: { wakeAt: "number", site: "string?" },
  sleep_completed: "null",
  sleep_cancelled: { by: "string" },
  wait_started: {
    kind: "string",
    target: "string",
    timeoutAt: "number",
    match: "object?",
    policy: "array?",
    site: "string?",
    workflow: "string?",
  },
  wait_reminded: WAIT_RUNG,
  wait_escalated: WAIT_RUNG,
  wait_completed: { status: "string", shape: "number?", result: "value", error: "value?" },
  wait_cancelled: { by: "string" },
  combinator_settled: { winners: "array", ok: "boolean" },
  combinator_cancelled: { by: "string" },
  run_cancel_requested: { reason: "string", kind: "string", by: "string?" },
  run_completed: { output: "value" },
  run_failed: { error: "value" },
  run_cancelled: ENDED,
  run_timed_out: ENDED,
  run_paused: { reason: "string", message: "string?", error: "value?" },
};

/** Types whose data may be null when none of their (optional) fields is set. */
const EMPTY_AS_NULL: ReadonlySet<EntryType> = new Set<EntryType>(["run_resumed", "patch_applied"]);

/** An entry, or what a reader has of one. */
export type EntryLike = Pick<JournalEntry, "type" | "data"> &
  Partial<Pick<JournalEntry, "seq" | "runId">>;

/**
 * The decoded data of `entry`, which must be of type `type`. Throws a StoreCorruptError naming
 * the entry when its data does not have the shape its type promises.
 */
export function readEntryData<T extends EntryType>(entry: EntryLike, type: T): EntryDataMap[T] {
  if (entry.type !== type) corrupt(entry, `it is a ${entry.type} entry, read as ${type}`);
  const shape = SHAPES[type];
  if (entry.data === null) {
    if (shape === "null") return null as EntryDataMap[T];
    if (EMPTY_AS_NULL.has(type)) return {} as EntryDataMap[T];
    return corrupt(entry, "it has no data");
  }
  let value: unknown;
  try {
    value = decodeValue(entry.data);
  } catch (e) {
    return corrupt(entry, `its data is not journal JSON (${(e as Error).message})`);
  }
  if (shape === "null") return corrupt(entry, "it has data where none belongs");
  if (shape === "scalar") {
    if (typeof value === "number" || typeof value === "string") return value as EntryDataMap[T];
    return corrupt(entry, "its data is not a number or a string");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return corrupt(entry, "its data is not an object");
  checkShape(entry, value as Record<string, unknown>, shape);
  return value as EntryDataMap[T];
}

/** Like {@link readEntryData}, for an entry that may be absent. */
export function readEntryDataOf<T extends EntryType>(
  entry: EntryLike | undefined,
  type: T,
): EntryDataMap[T] | undefined {
  return entry === undefined ? undefined : readEntryData(entry, type);
}

function checkShape(entry: EntryLike, data: Record<string, unknown>, shape: Shape): void {
  for (const name in shape) {
    const spec = shape[name] as string;
    const optional = spec.endsWith("?");
    const field = (optional ? spec.slice(0, -1) : spec) as Field;
    if (!(name in data)) {
      if (optional) continue;
      corrupt(entry, `its data lacks the field '${name}'`);
    }
    const v = data[name];
    if (optional && v === undefined) continue;
    if (!fits(field, v)) corrupt(entry, `its field '${name}' is not ${article(field)}`);
  }
}

function fits(field: Field, v: unknown): boolean {
  switch (field) {
    case "number":
      return typeof v === "number";
    case "string":
      return typeof v === "string";
    case "string|null":
      return v === null || typeof v === "string";
    case "boolean":
      return typeof v === "boolean";
    case "value":
      return true;
    case "array":
      return Array.isArray(v);
    case "strings":
      return Array.isArray(v) && v.every((s) => typeof s === "string");
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v);
  }
}

const article = (field: Field): string =>
  field === "string|null"
    ? "a string or null"
    : field === "strings"
      ? "a list of strings"
      : field === "array"
        ? "a list"
        : field === "object"
          ? "an object"
          : `a ${field}`;

function corrupt(entry: EntryLike, problem: string): never {
  const which =
    (entry.seq === undefined ? "a journal entry" : `journal entry ${entry.seq}`) +
    ` (${entry.type})` +
    (entry.runId === undefined ? "" : ` of run ${entry.runId}`);
  throw new StoreCorruptError(
    `${which} cannot be read: ${problem}. The store was changed by something other than ` +
      "endure, or by a version of endure that wrote another format; restore the journal from a " +
      "backup, or cancel the run",
  );
}

// ---- peeking: a field of an entry's data without decoding its payload ------------------------

/** The `attempt` (or `attempts`) a step entry's data starts with, or null. */
export function peekAttempt(data: string | null): number | null {
  const m = /^\{"attempts?":(\d+)/.exec(data ?? "");
  return m === null ? null : Number(m[1]);
}

/** The `kind` a `wait_started` entry's data starts with, or null. */
export function peekWaitKind(data: string | null): string | null {
  return /^\{"kind":"([a-z]+)"/.exec(data ?? "")?.[1] ?? null;
}

/** The `span` (a W3C traceparent) a worker recorded in an entry's data, or null. */
export function peekSpan(data: string | null): string | null {
  return /"span":"([0-9a-f-]{55})"/.exec(data ?? "")?.[1] ?? null;
}

/** The `trace` (a W3C traceparent) of a `run_started` entry's data, or null. */
export function peekTrace(data: string | null): string | null {
  return /"trace":"([0-9a-f-]{55})"/.exec(data ?? "")?.[1] ?? null;
}

/** Whether an entry's data may hold a `site` (cheaper than decoding it to find out). */
export function mayHaveSite(data: string | null): data is string {
  return data !== null && data.includes('"site"');
}
