// Deterministic: child runs. `ctx.invoke` is a wait of kind `child` whose target is the child
// run's id: the child is created with the parent's commit of `wait_started`, and its end ends
// the wait in the store (in the child's own last commit), waking the parent. This file checks
// the arguments, derives the child's id and turns the child's outcome into what the code sees.
import { parseDuration } from "./duration.js";
import { ChildRunCycleError, ChildRunFailedError, InvalidArgumentError } from "./errors.js";
import { CHILD_WAIT_TIMEOUT_MS_NONE, RUN_ID_LENGTH_MAX } from "./limits.js";
import type { ChildRequest, RunPort, WaitOutcome } from "./run-port.js";
import { checkPayloadSize, decodeValue, encodeValue } from "./serialize.js";
import { checkRunId } from "./text.js";
import type { InvokeOptions } from "./types.js";

/** What a child needs once it has its place: its request and wait, given the op's key. */
export interface CheckedChild {
  readonly workflow: string;
  readonly id: string | undefined;
  readonly timeoutMs: number;
  request(parentId: string, key: string): ChildRequest;
}

/** Checks `ctx.invoke`/`ctx.startChild` arguments before the call takes a place in the run. */
export function checkChild(
  port: RunPort,
  what: string,
  workflow: unknown,
  input: unknown,
  options: InvokeOptions,
): CheckedChild {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(`${what} options must be an object`);
  if (options.id !== undefined) checkRunId(options.id, `${what} id`);
  if (options.detached !== undefined && typeof options.detached !== "boolean")
    throw new InvalidArgumentError(`${what} detached must be true or false`);
  const timeoutMs =
    options.timeout === undefined
      ? CHILD_WAIT_TIMEOUT_MS_NONE
      : parseDuration(options.timeout, `${what} timeout`);
  if (timeoutMs <= 0) throw new InvalidArgumentError(`${what} timeout must be longer than 0`);
  const child = port.childWorkflow(workflow, input);
  const label = `input of child workflow '${child.name}'`;
  const encoded = encodeValue(child.input, label);
  checkPayloadSize(encoded, port.limits.payloadBytesMax, label);
  const detached = options.detached ?? false;
  return {
    workflow: child.name,
    id: options.id,
    timeoutMs,
    request: (parentId, key) => ({
      runId: options.id ?? childRunId(parentId, key),
      workflow: child.name,
      version: child.version,
      input: encoded,
      detached,
    }),
  };
}

/**
 * The id of the child started at `key` of run `parentId`: `<parent>/<key>`, or, when that
 * is longer than a run id may be, the start of it with a hash of the whole (the same on
 * every replay).
 */
export function childRunId(parentId: string, key: string): string {
  const id = `${parentId}/${key}`;
  if (id.length <= RUN_ID_LENGTH_MAX) return id;
  const tail = `~${fnv1a(id)}/${key}`.slice(0, RUN_ID_LENGTH_MAX / 2);
  return `${parentId.slice(0, RUN_ID_LENGTH_MAX - tail.length)}${tail}`;
}

/** 64-bit FNV-1a of a string's UTF-16 units, as 16 hex digits. */
function fnv1a(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** What the code is handed when a child wait ends: the child's output, or an error. */
export type ChildResult = { readonly value: unknown } | { readonly error: Error };

/** How the code sees the end of child wait `child` (an ended child, a refusal, a timeout). */
export function childResult(
  parentId: string,
  child: { readonly runId: string; readonly workflow: string },
  outcome: WaitOutcome,
): ChildResult {
  const { runId, workflow } = child;
  if (outcome.status === "timed_out" || outcome.value === null) {
    return {
      error: new ChildRunFailedError(
        `run ${parentId} stopped waiting for its child run '${runId}' (workflow '${workflow}'): ` +
          "its invoke timeout passed. The child was cancelled unless detached; give the invoke " +
          "a longer timeout, or none",
        { runId, workflow, status: "timed_out" },
      ),
    };
  }
  const ended = decodeValue(outcome.value) as {
    status: "completed" | "failed" | "cancelled" | "timed_out" | "refused";
    output?: unknown;
    error?: unknown;
    message?: string;
  };
  if (ended.status === "completed") return { value: ended.output };
  if (ended.status === "refused") return { error: new ChildRunCycleError(ended.message ?? "") };
  const cause = ended.error;
  const why = cause instanceof Error ? cause.message : String(cause);
  const verb =
    ended.status === "failed"
      ? "failed"
      : ended.status === "cancelled"
        ? "was cancelled"
        : "timed out";
  return {
    error: new ChildRunFailedError(
      `child run '${runId}' (workflow '${workflow}') of run ${parentId} ${verb}: ${why}. ` +
        "Catch the error to carry on without its result (its cause is the child's error)",
      { runId, workflow, status: ended.status },
      { cause },
    ),
  };
}
