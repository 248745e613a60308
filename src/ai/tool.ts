// Tools an agent offers its model: a description, an input schema, and a body that runs as a
// durable step with its own retries, timeout and verification.
import type { Duration } from "../core/duration.js";
import { InvalidArgumentError } from "../core/errors.js";
import { validate, type StandardSchemaV1, type Validated } from "../core/schema.js";
import type { StreamPart } from "../core/stream.js";
import type { ApprovalOptions, BackoffOptions, WorkflowContext } from "../core/types.js";
import { inputJsonSchema } from "./json-schema.js";

/** What a tool's body receives besides its input. */
export interface ToolContext {
  /** Stable across retries and recoveries: pass it to the systems the tool changes. */
  readonly idempotencyKey: string;
  readonly attempt: number;
  /** Aborted on timeout, cancellation or a lost run. */
  readonly signal: AbortSignal;
  readonly runId: string;
  /** The model's id for this call. */
  readonly toolCallId: string;
  /** Reports progress to the run's output stream (a `data-tool-progress` part). */
  readonly progress: (data: unknown) => void;
  /** Appends any part to the run's output stream. */
  readonly emit: (part: StreamPart) => void;
}

/** Who decides on a tool call, and how long they have: `ctx.approval` options. */
export type ToolApprovalRules = Omit<ApprovalOptions, "title" | "details">;

/**
 * When a tool call waits for a person: always (`true`), when a function of the arguments says
 * so (it runs in the workflow, again on replay: keep it a pure function of its input), or with
 * rules for who decides. The person sees the proposed call; a rejection is returned to the
 * model with the reviewer's comment.
 */
export type ToolApproval<I> =
  | boolean
  | ((input: I) => boolean | Promise<boolean>)
  | (ToolApprovalRules & {
      /** When to ask (default: always). */
      readonly when?: (input: I) => boolean | Promise<boolean>;
      /** What the person is asked (default: "Allow tool '<name>' to run?"). */
      readonly title?: string | ((input: I) => string);
    });

/** How a tool's step retries and checks its result. */
export interface ToolStepOptions<I, O> {
  /** Retries after a failed attempt (default 3, as any step). */
  readonly retries?: number;
  readonly backoff?: BackoffOptions;
  /** Longest an attempt may take; its `signal` aborts. */
  readonly timeout?: Duration;
  /**
   * Reason-Act-Verify: a check the result must pass before the agent sees the call as done.
   * `false`, a reason, or a throw refuses it: the attempt counts as failed and is retried.
   */
  readonly verify?: (
    result: O,
    input: I,
  ) => boolean | string | void | Promise<boolean | string | void>;
  /** Pause for a person's decision before running (see {@link ToolApproval}). */
  readonly approval?: ToolApproval<I>;
}

/** What {@link tool} takes. */
export interface ToolDefinition<I, O> extends ToolStepOptions<I, O> {
  /** What the tool does, for the model. */
  readonly description: string;
  /** The input schema: any Standard Schema, zod 4 by default. Arguments are checked with it. */
  readonly input: StandardSchemaV1<unknown, I>;
  /** The JSON Schema shown to the model, for schema libraries that cannot make one. */
  readonly inputJsonSchema?: Record<string, unknown>;
  /** The tool's body: runs as a step, at least once and, barring a crash, exactly once. */
  readonly run: (input: I, ctx: ToolContext) => O | Promise<O>;
  /** The text the model sees of a result (default: the string, or its JSON). */
  readonly toModelOutput?: (result: O) => string;
}

/** A tool ready to offer a model. Make one with {@link tool}. */
export interface Tool<I = unknown, O = unknown> extends ToolStepOptions<I, O> {
  readonly kind: "endure.tool";
  readonly description: string;
  /** The JSON Schema of the input, as the model sees it. */
  readonly inputSchema: Record<string, unknown>;
  /** Checks model-produced arguments. */
  readonly check: (value: unknown) => Promise<Validated<I>>;
  readonly run: (input: I, ctx: ToolContext) => O | Promise<O>;
  readonly toModelOutput?: (result: O) => string;
  /**
   * A body that is workflow code instead of a step body (used in place of `run`): it may
   * call `ctx.step`, sleep and wait, as `a2aAgent(...).tool()` does to wait for a remote
   * task durably. `callId` is the model's id for the call, unique in the run.
   */
  readonly durable?: (input: I, ctx: WorkflowContext, callId: string) => Promise<O>;
}

/** Tools by the name the model calls them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs are contravariant; any admits every tool
export type Tools = Readonly<Record<string, Tool<any, any>>>;

/** Tool names every major provider accepts. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool. The model's arguments are validated against `input`; a call with invalid
 * arguments is answered with the validation errors instead of running `run`.
 *
 * @example
 * ```ts
 * const search = tool({
 *   description: "Search the web",
 *   input: z.object({ q: z.string() }),
 *   run: async ({ q }, { signal }) => searchApi(q, { signal }),
 *   retries: 3,
 *   timeout: "20s",
 * });
 * const sendEmail = tool({
 *   description: "Send an email",
 *   input: z.object({ to: z.string(), body: z.string() }),
 *   approval: ({ to }) => !to.endsWith("@acme.io"), // outside the company: ask first
 *   run: (mail, { idempotencyKey }) => mailer.send(mail, { idempotencyKey }),
 * });
 * ```
 */
export function tool<I, O>(definition: ToolDefinition<I, O>): Tool<I, O> {
  const d = definition as Partial<ToolDefinition<I, O>>;
  if (typeof d.description !== "string" || d.description.trim() === "") {
    throw new InvalidArgumentError("a tool needs a description: models choose tools by it");
  }
  if (typeof d.run !== "function") throw new InvalidArgumentError("a tool needs a run function");
  const schema = d.input;
  if (typeof schema !== "object" || schema === null || !("~standard" in schema)) {
    throw new InvalidArgumentError(
      "a tool needs an input schema (a Standard Schema such as z.object({...}))",
    );
  }
  const inputSchema = inputJsonSchema(schema, `tool "${d.description}"`, d.inputJsonSchema);
  checkApproval(d.approval, `tool "${d.description}"`);
  return Object.freeze({
    ...definition,
    kind: "endure.tool" as const,
    inputSchema,
    check: (value: unknown) => validate(schema, value),
  });
}

/** Checks a set of tools: names providers accept, at most `max` of them. */
export function checkTools(tools: Tools, max: number, what: string): void {
  const names = Object.keys(tools);
  if (names.length > max) {
    throw new InvalidArgumentError(`${what} offers ${names.length} tools; the limit is ${max}`);
  }
  for (const name of names) {
    if (!TOOL_NAME.test(name)) {
      throw new InvalidArgumentError(
        `${what}: tool name '${name}' must be 1 to 64 letters, digits, '_' or '-' (what providers accept)`,
      );
    }
    if (tools[name]?.kind !== "endure.tool") {
      throw new InvalidArgumentError(`${what}: '${name}' is not a tool; make it with tool({...})`);
    }
  }
}

function checkApproval(approval: unknown, what: string): void {
  if (approval === undefined || typeof approval === "boolean" || typeof approval === "function")
    return;
  if (typeof approval !== "object" || approval === null) {
    throw new InvalidArgumentError(
      `${what}: approval must be true, a function of the input, or approval rules`,
    );
  }
  const a = approval as { when?: unknown; title?: unknown };
  if (a.when !== undefined && typeof a.when !== "function")
    throw new InvalidArgumentError(`${what}: approval.when must be a function of the input`);
  if (a.title !== undefined && typeof a.title !== "string" && typeof a.title !== "function")
    throw new InvalidArgumentError(`${what}: approval.title must be a string or a function`);
}
