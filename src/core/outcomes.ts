// Deterministic: the entries and values a run ends with.
import { entryData } from "./entry-data.js";
import { encodeValue, checkPayloadSize } from "./serialize.js";
import {
  OutputValidationError,
  type NonDeterminismError,
  type UpcastFailedError,
} from "./errors.js";
import type { RunOutcome, RunPort } from "./run-port.js";
import { validate } from "./schema.js";
import type { Cancellation } from "./types.js";
import type { Workflow } from "./workflow.js";

/** A completed run: its output checked against the workflow's schema, encoded, within limits. */
export async function finalOutcome(
  workflow: Workflow<unknown, unknown>,
  output: unknown,
  port: RunPort,
): Promise<RunOutcome> {
  const schema = workflow.options.output;
  if (schema !== undefined) {
    const checked = await validate(schema, output);
    if (!checked.ok) {
      return failureOutcome(
        new OutputValidationError(
          `workflow '${workflow.name}' returned an output that fails its schema: ${checked.issues}`,
        ),
        port,
      );
    }
    output = checked.value;
  }
  let encoded: string;
  try {
    encoded = encodeValue(output, `workflow '${workflow.name}' output`);
    checkPayloadSize(encoded, port.limits.resultBytesMax, `workflow '${workflow.name}' output`);
  } catch (e) {
    return failureOutcome(e as Error, port);
  }
  return {
    kind: "completed",
    entry: {
      type: "run_completed",
      at: port.clock.now(),
      position: null,
      key: null,
      data: entryData.run_completed({ output: encoded }),
    },
    output: encoded,
  };
}

/** A failed run, with its error as the journal keeps it. */
export function failureOutcome(error: Error, port: RunPort): RunOutcome {
  const encoded = encodeError(error);
  return {
    kind: "failed",
    entry: {
      type: "run_failed",
      at: port.clock.now(),
      position: null,
      key: null,
      data: entryData.run_failed({ error: encoded }),
    },
    error: encoded,
  };
}

/** A run paused because it diverged from its journal (or a journaled value could not be
 * brought up to its shape: `upcast_failed`). */
export function pauseOutcome(
  error: NonDeterminismError | UpcastFailedError,
  port: RunPort,
  code: "non_determinism" | "upcast_failed" = "non_determinism",
): RunOutcome {
  return {
    kind: "paused",
    entry: {
      type: "run_paused",
      at: port.clock.now(),
      position: null,
      key: null,
      data: entryData.run_paused({ reason: code, error: encodeValue(error, "pause reason") }),
    },
    reason: error.message,
    code,
  };
}

/** A run cancelled or timed out, with its error and the messages of cleanup that failed. */
export function cancelledOutcome(
  cancellation: Cancellation,
  error: Error,
  cleanupErrors: readonly string[],
  port: RunPort,
): RunOutcome {
  const type = cancellation.kind === "timed_out" ? "run_timed_out" : "run_cancelled";
  const data = entryData[type]({ reason: cancellation.reason, cleanupErrors });
  return {
    kind: "cancelled",
    status: cancellation.kind,
    entry: { type, at: port.clock.now(), position: null, key: null, data },
    error: encodeValue(error, "cancellation error"),
  };
}

/** Encodes an error; one that cannot be journaled whole keeps its name, message and stack. */
export function encodeError(error: Error): string {
  try {
    return encodeValue(error, "error");
  } catch {
    const plain = new Error(error.message);
    plain.name = error.name;
    if (error.stack !== undefined) plain.stack = error.stack;
    return encodeValue(plain, "error");
  }
}
