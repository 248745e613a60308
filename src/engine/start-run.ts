// Starting a run: its id, input and priority checked, and the run created with its first entry;
// claimed at once when this engine's worker can execute it.
import { isDeepStrictEqual } from "node:util";
import type { Clock } from "../core/clock.js";
import { parseDuration } from "../core/duration.js";
import { InputValidationError, InvalidArgumentError, RunIdConflictError } from "../core/errors.js";
import { concurrencyKeyOf, priorityOf } from "../core/flow-control.js";
import type { NewEntry } from "../core/journal.js";
import { LABEL_LENGTH_MAX, PRIORITY_DEFAULT } from "../core/limits.js";
import { checkRunId, checkText } from "../core/text.js";
import type { RunLimits } from "../core/run-port.js";
import { validate } from "../core/schema.js";
import { entryData } from "../core/entry-data.js";
import { checkPayloadSize, decodeValue, encodeValue } from "../core/serialize.js";
import type { Workflow } from "../core/workflow.js";
import type { Committer } from "../worker/committer.js";
import { newRunId } from "../worker/ids.js";
import type { Worker } from "../worker/worker.js";
import { activeTraceparent, parseTraceparent } from "../observe/traceparent.js";
import type { AnyWorkflow } from "./options.js";
import type { Registry } from "./registry.js";

/** Options of `engine.start`. */
export interface StartOptions {
  /**
   * The run's id: an idempotency key. A second start with the same id and the same input
   * returns the same run (`created: false`); with a different input, see `onConflict`.
   */
  id?: string;
  /**
   * What a start with an existing id but a different input does: `"error"` (the default)
   * throws a `RunIdConflictError` naming the run; `"return"` returns the existing run as it
   * is, its input unchanged.
   */
  onConflict?: "error" | "return";
  /** Claimed before runs of lower priority (from -1,000 to 1,000). Default: the workflow's, else 0. */
  priority?: number;
  /**
   * The W3C `traceparent` the run's spans belong to. Default: the span active where `start`
   * is called, when an OpenTelemetry SDK is set up.
   */
  traceparent?: string;
  /** Who starts the run (a person, a service), journaled in its `run_started` entry for the
   * audit trail. The HTTP API sets it to the caller's token name. */
  by?: string;
}

/** The parts of an engine starting a run needs. */
export interface StartParts {
  readonly clock: Clock;
  readonly limits: RunLimits;
  readonly committer: Committer;
  readonly worker: Worker | null;
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  /** Every registered version, by name. */
  readonly registry: Registry;
}

/** Creates a run of `wf` (or finds the one with the id); throws when the id is another's. */
export async function startRun(
  parts: StartParts,
  wf: Workflow<unknown, unknown>,
  input: unknown,
  options: StartOptions,
): Promise<{ id: string; created: boolean }> {
  const id = options.id ?? newRunId(parts.clock.now());
  checkRunId(id);
  if (options.by !== undefined) checkText(options.by, "start by", LABEL_LENGTH_MAX);
  if (options.onConflict !== undefined && !["error", "return"].includes(options.onConflict)) {
    throw new InvalidArgumentError(
      `start option onConflict must be "error" or "return", got ${JSON.stringify(options.onConflict)}`,
    );
  }
  const value = await checkedInput(wf, input);
  const priority = priorityOf(
    options.priority,
    wf.options.priority ?? PRIORITY_DEFAULT,
    "start priority",
  );
  const concurrencyKey = concurrencyKeyOf(wf.options.concurrency, value, wf.name);
  const what = `input of workflow '${wf.name}'`;
  const encoded = encodeValue(value, what);
  checkPayloadSize(encoded, parts.limits.payloadBytesMax, what);
  const started: NewEntry = {
    type: "run_started",
    at: parts.clock.now(),
    position: null,
    key: null,
    data: entryData.run_started({
      workflow: wf.name,
      version: wf.options.version ?? null,
      ...traceOf(options),
      ...(options.by === undefined ? {} : { by: options.by }),
    }),
  };
  const claim = claimOf(parts, wf, concurrencyKey);
  const result = await parts.committer.create({
    id,
    workflow: wf.name,
    version: wf.options.version ?? null,
    input: encoded,
    started,
    claim,
    priority,
    concurrencyKey,
    deadlineAt:
      wf.options.ttl === undefined
        ? null
        : parts.clock.now() + parseDuration(wf.options.ttl, "ttl"),
  });
  if (!result.created && result.run.workflow !== wf.name) {
    throw new RunIdConflictError(
      `run id '${id}' already belongs to a run of workflow '${result.run.workflow}', not '${wf.name}'; choose another id`,
    );
  }
  if (!result.created && options.onConflict !== "return" && !sameInput(result.run.input, encoded)) {
    throw new RunIdConflictError(
      `run '${id}' of workflow '${wf.name}' exists already with a different input; nothing was ` +
        'started. Choose another id for a new run, or pass onConflict: "return" to get the existing run',
    );
  }
  if (result.created && claim !== null) parts.worker?.adoptNew(result.run, started);
  else if (result.created) parts.worker?.kick();
  return { id, created: result.created };
}

/** True when two encoded inputs hold equal values (key order aside). */
function sameInput(stored: string, encoded: string): boolean {
  return stored === encoded || isDeepStrictEqual(decodeValue(stored), decodeValue(encoded));
}

/** The input as the workflow's schema returns it; throws when it fails the schema. */
async function checkedInput(wf: Workflow<unknown, unknown>, input: unknown): Promise<unknown> {
  if (wf.options.input === undefined) return input;
  const checked = await validate(wf.options.input, input);
  if (!checked.ok)
    throw new InputValidationError(
      `input of workflow '${wf.name}' fails its schema: ${checked.issues}; nothing was started`,
    );
  return checked.value;
}

/** This engine's claim on the new run, when its worker can execute it now. */
function claimOf(
  parts: StartParts,
  wf: Workflow<unknown, unknown>,
  concurrencyKey: string | null,
): { workerId: string; leaseMs: number } | null {
  // A limited run is claimed like any other, so that its limit is counted across workers.
  const canRun =
    parts.worker !== null &&
    parts.worker.capacity > 0 &&
    parts.registry.versions.get(wf.name)?.get(wf.options.version ?? null) === wf &&
    concurrencyKey === null;
  return canRun && parts.worker !== null
    ? { workerId: parts.worker.settings.workerId, leaseMs: parts.worker.settings.leaseMs }
    : null;
}

/** The trace the run joins, as the `trace` field of its `run_started` entry. */
function traceOf(options: StartOptions): { trace?: string } {
  if (options.traceparent !== undefined && parseTraceparent(options.traceparent) === null)
    throw new InvalidArgumentError(
      `start option traceparent '${options.traceparent}' is not a W3C traceparent ` +
        "(00-<32 hex trace id>-<16 hex span id>-<2 hex flags>); pass one or leave it out",
    );
  const traceparent = options.traceparent ?? activeTraceparent();
  return traceparent === null ? {} : { trace: traceparent };
}
