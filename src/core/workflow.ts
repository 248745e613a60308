// Deterministic: defines workflows.
import { parseDuration } from "./duration.js";
import { InvalidArgumentError } from "./errors.js";
import { checkConcurrency, priorityOf, type ConcurrencyOptions } from "./flow-control.js";
import { LABEL_LENGTH_MAX, NAME_LENGTH_MAX } from "./limits.js";
import { checkShape, type PayloadShape } from "./shapes.js";
import { checkText } from "./text.js";
import type { Duration } from "./duration.js";
import type { StandardSchemaV1 } from "./schema.js";
import type { WorkflowContext } from "./types.js";

/** Options of a workflow. */
export interface WorkflowOptions<I, O> {
  /** Validates (and may transform) the input on `engine.start`. Any Standard Schema. */
  input?: StandardSchemaV1<unknown, I>;
  /** Validates the output before the run completes. */
  output?: StandardSchemaV1<unknown, O>;
  /** Recorded in each run's journal; bump it when the code changes shape. */
  version?: string;
  /**
   * The shapes of step results, by step name: when a step's result changes shape, bump its
   * version and declare how an older result is brought up. A result is journaled with its
   * shape's version beside it; a replay hands the code an older one through the upcasters
   * (see docs/evolving.md). An upcaster that throws pauses the run and writes nothing.
   *
   * @example
   * ```ts
   * workflow("research", research, {
   *   results: { plan: { version: 2, upcast: { 1: (old: string) => ({ steps: [old] }) } } },
   * });
   * ```
   */
  results?: Readonly<Record<string, PayloadShape>>;
  /**
   * At most `limit` runs of this workflow execute at once across every worker; with `key`, at
   * most `limit` per key.
   *
   * @example
   * ```ts
   * workflow("sync-tenant", syncTenant, { concurrency: { limit: 1, key: (input) => input.tenantId } });
   * ```
   */
  concurrency?: ConcurrencyOptions<I>;
  /** Priority of its runs (from -1,000 to 1,000; higher first). Default 0; `start` may override. */
  priority?: number;
  /**
   * Longest a run may live (`"7d"`). A run that outlives it is cancelled (its `onCancel`
   * cleanup runs) and ends as `timed_out`.
   */
  ttl?: Duration;
  /** Starts one run per event of this name (run id `<workflow>:<event id>`, input the event). */
  on?: string;
  /** Starts one run per tick of this cron expression (five or six fields), input `{ scheduledAt }`. */
  schedule?: string;
  /** Time zone of `schedule` (IANA name, such as `"Europe/Paris"`). Default UTC. */
  timezone?: string;
  /**
   * Ticks missed while no worker ran: `"latest"` (default) starts the most recent one, `"all"`
   * starts each (at most 100), `"none"` skips them.
   */
  catchUp?: "latest" | "all" | "none";
  /**
   * Serve this workflow as an A2A agent at `/a2a/<name>` when an endure server runs (see
   * docs/a2a.md). Agents are served unless they say `a2a: false`; a plain workflow only when
   * it opts in here.
   *
   * @example
   * ```ts
   * workflow("translate", translate, { a2a: { description: "Translates a text to French" } });
   * ```
   */
  a2a?: boolean | A2AServing;
}

/**
 * The event an A2A reply to a task is delivered as: a run served over A2A asks its caller for
 * more with `ctx.waitForEvent("reply", { event: A2A_MESSAGE_EVENT, match: { "data.taskId":
 * ctx.runId } })` (the task shows `input-required` meanwhile); the data is an {@link A2AInput}
 * with the `taskId`. Each message id is delivered once.
 */
export const A2A_MESSAGE_EVENT = "a2a.message";

/** A skill an A2A Agent Card lists: something the agent can be asked to do. */
export interface A2ASkill {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly tags?: readonly string[];
}

/** How a workflow is served over A2A (see {@link WorkflowOptions.a2a}). */
export interface A2AServing {
  /** What the agent does, shown on its Agent Card. Default: the workflow's name. */
  readonly description?: string;
  /** The skills on its Agent Card. Default: one skill named after the workflow. */
  readonly skills?: readonly A2ASkill[];
  /**
   * The run's input made from the A2A message that starts it. Default: the
   * {@link A2AInput} itself. Runs outside the workflow (before the run is created).
   */
  readonly input?: (message: A2AInput) => unknown;
}

/** An A2A message as a run started over A2A receives it (or its `a2a.input` maps). */
export interface A2AInput {
  /** The text parts of the message, joined by blank lines. */
  readonly text: string;
  /** The data parts of the message, in order. */
  readonly data: readonly unknown[];
  /** The message's id (the task id is derived from it). */
  readonly messageId: string;
  /** The A2A context the task belongs to. */
  readonly contextId: string;
}

/** A workflow definition: register it on an engine and start runs of it. */
export interface Workflow<I = unknown, O = unknown> {
  readonly name: string;
  readonly fn: (ctx: WorkflowContext, input: I) => Promise<O>;
  readonly options: WorkflowOptions<I, O>;
}

/**
 * Defines a workflow: a named async function whose steps are journaled.
 *
 * @example
 * ```ts
 * const greet = workflow("greet", async (ctx, input: { name: string }) => {
 *   const text = await ctx.step("compose", () => `Hello, ${input.name}`);
 *   return text;
 * });
 * ```
 */
export function workflow<I, O>(
  name: string,
  fn: (ctx: WorkflowContext, input: I) => Promise<O>,
  options: WorkflowOptions<I, O> = {},
): Workflow<I, O> {
  checkName(name, "workflow name");
  if (options.version !== undefined)
    checkText(options.version, `workflow '${name}' version`, LABEL_LENGTH_MAX);
  if (options.ttl !== undefined) parseDuration(options.ttl, `workflow '${name}' ttl`);
  if (options.on !== undefined) checkName(options.on, `workflow '${name}' trigger event name`);
  if (options.catchUp !== undefined && !["latest", "all", "none"].includes(options.catchUp)) {
    throw new InvalidArgumentError(`workflow '${name}' catchUp must be "latest", "all" or "none"`);
  }
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      `workflow '${name}' needs a function (ctx, input) => Promise<output>`,
    );
  }
  if (options.results !== undefined) {
    if (typeof options.results !== "object" || options.results === null)
      throw new InvalidArgumentError(`workflow '${name}' results must be an object by step name`);
    const results: Record<string, PayloadShape> = {};
    for (const [step, shape] of Object.entries(options.results)) {
      checkName(step, `workflow '${name}' results: step name`);
      results[step] = checkShape(shape, `workflow '${name}' result of step '${step}'`);
    }
    options = { ...options, results: Object.freeze(results) };
  }
  checkConcurrency(options.concurrency, name);
  if (options.a2a !== undefined) checkA2A(options.a2a, name);
  priorityOf(options.priority, 0, `workflow '${name}' priority`);
  return Object.freeze({ name, fn, options });
}

/** Refuses a name that is not a storable string (see `checkText`) of at most
 * {@link NAME_LENGTH_MAX} characters, or that holds `#`. */
export function checkName(name: unknown, what: string): asserts name is string {
  checkText(name, what, NAME_LENGTH_MAX);
  if (name.includes("#")) {
    throw new InvalidArgumentError(
      `${what} '${name}' must not contain '#', which marks occurrences`,
    );
  }
}

function checkA2A(a2a: unknown, name: string): void {
  if (typeof a2a === "boolean") return;
  const what = `workflow '${name}' a2a`;
  if (typeof a2a !== "object" || a2a === null)
    throw new InvalidArgumentError(`${what} must be true, false or { description?, skills? }`);
  const o = a2a as { description?: unknown; skills?: unknown; input?: unknown };
  if (o.description !== undefined) checkText(o.description, `${what} description`, 4_000);
  if (o.input !== undefined && typeof o.input !== "function")
    throw new InvalidArgumentError(`${what} input must be a function of the A2A message`);
  if (o.skills === undefined) return;
  if (!Array.isArray(o.skills))
    throw new InvalidArgumentError(`${what} skills must be an array of { id, name, description }`);
  for (const [i, skill] of (o.skills as unknown[]).entries()) {
    const sk = skill as { id?: unknown; name?: unknown; description?: unknown } | null;
    if (typeof sk !== "object" || sk === null)
      throw new InvalidArgumentError(`${what} skills[${i}] must be { id, name, description }`);
    checkText(sk.id, `${what} skills[${i}].id`, NAME_LENGTH_MAX);
    checkText(sk.name, `${what} skills[${i}].name`, NAME_LENGTH_MAX);
    checkText(sk.description, `${what} skills[${i}].description`, 4_000);
  }
}
