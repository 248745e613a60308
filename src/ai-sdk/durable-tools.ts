// Makes the tools of an AI SDK call durable: each execute is a step keyed by its tool call id,
// and the SDK's approval flags become endure approvals that survive restarts.
import type { ToolExecutionOptions, ToolSet } from "ai";
import type { StepContext, WorkflowContext } from "../core/types.js";
import type { Duration } from "../core/duration.js";
import type { BackoffOptions } from "../core/types.js";
import type { ToolApprovalRules } from "../ai/tool.js";

/** Options of {@link durableTools}. */
export interface DurableToolsOptions {
  /** Retries of each tool's step (default 3, as any step). */
  retries?: number;
  backoff?: BackoffOptions;
  timeout?: Duration;
  /** Who decides on tools that need approval, and how long they have. */
  approval?: ToolApprovalRules;
  /** Write tool results to the run's output stream (default true). */
  emit?: boolean;
}

/** What a tool's execute receives, plus where it stands as a step. */
export type DurableToolOptions = ToolExecutionOptions & {
  /** Stable across retries and recoveries of this call. */
  readonly idempotencyKey: string;
  readonly attempt: number;
};

type Execute = (input: unknown, options: ToolExecutionOptions) => unknown;
type NeedsApproval =
  | boolean
  | ((
      input: unknown,
      options: { toolCallId: string; messages: ToolExecutionOptions["messages"] },
    ) => boolean | PromiseLike<boolean>)
  | undefined;

/** A step or approval name from a tool call: names may not hold `#` or pass 200 characters. */
export function callName(toolName: string, toolCallId: string): string {
  return `${toolName} ${toolCallId}`.replace(/#/g, "_").slice(0, 200);
}

/**
 * Returns `tools` with every `execute` made a durable step of the run of `ctx`, named by the
 * tool and its call id (so its idempotency key is tied to the call), with the SDK's calls in
 * their deterministic order. A tool marked `needsApproval` (or whose function says so for the
 * input) waits for `ctx.approval` instead of stopping the SDK call; a rejection becomes a tool
 * error the model reads, with the reviewer's comment. The execute function also receives
 * `idempotencyKey` and `attempt` in its options.
 *
 * @example
 * ```ts
 * const { text } = await generateText({
 *   model: durableModel(ctx, openai("gpt-4.1-mini")),
 *   tools: durableTools(ctx, { search, sendEmail }), // sendEmail has needsApproval: true
 *   stopWhen: stepCountIs(8),
 *   maxRetries: 0,
 *   prompt,
 * });
 * ```
 */
export function durableTools<T extends ToolSet>(
  ctx: WorkflowContext,
  tools: T,
  options: DurableToolsOptions = {},
): T {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tools)) {
    const execute = t.execute as Execute | undefined;
    if (execute === undefined) {
      out[name] = t;
      continue;
    }
    const needsApproval = t.needsApproval as NeedsApproval;
    const { needsApproval: _dropped, ...rest } = t;
    out[name] = {
      ...rest,
      execute: (input: unknown, call: ToolExecutionOptions) =>
        runDurably(ctx, name, input, call, execute, needsApproval, options),
    };
  }
  return out as T;
}

async function runDurably(
  ctx: WorkflowContext,
  toolName: string,
  input: unknown,
  call: ToolExecutionOptions,
  execute: Execute,
  needsApproval: NeedsApproval,
  options: DurableToolsOptions,
): Promise<unknown> {
  const name = callName(toolName, call.toolCallId);
  const emit = options.emit ?? true;
  const ask =
    typeof needsApproval === "function"
      ? await needsApproval(input, { toolCallId: call.toolCallId, messages: call.messages })
      : needsApproval === true;
  if (ask) {
    if (emit)
      ctx.emit({ type: "tool-approval-request", approvalId: name, toolCallId: call.toolCallId });
    const decision = await ctx.approval(name, {
      ...(options.approval ?? {}),
      title: `Allow tool '${toolName}' to run?`,
      details: { tool: toolName, toolCallId: call.toolCallId, input },
    });
    if (!decision.approved) {
      if (emit) ctx.emit({ type: "tool-output-denied", toolCallId: call.toolCallId });
      const why =
        decision.outcome === "rejected"
          ? `${decision.by ?? "a reviewer"} rejected it${decision.comment === null ? "" : `: ${decision.comment}`}`
          : "no one approved it in time";
      throw new Error(`the call of tool '${toolName}' was not run: ${why}`);
    }
  }
  let output: unknown;
  try {
    output = await ctx.step(
      name,
      (step: StepContext) =>
        settle(
          execute(input, {
            ...call,
            abortSignal: step.signal,
            idempotencyKey: step.idempotencyKey,
            attempt: step.attempt,
          } as DurableToolOptions),
          step,
          call.toolCallId,
          emit,
        ),
      {
        ...(options.retries === undefined ? {} : { retries: options.retries }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      },
    );
  } catch (e) {
    if (emit)
      ctx.emit({
        type: "tool-output-error",
        toolCallId: call.toolCallId,
        errorText: (e as Error).message,
      });
    throw e;
  }
  if (emit) ctx.emit({ type: "tool-output-available", toolCallId: call.toolCallId, output });
  return output;
}

/** An execute may return a value, a promise, or an async iterable of preliminary outputs:
 * the step keeps the last one, and shows the others in the output stream as they come. */
async function settle(
  result: unknown,
  step: StepContext,
  toolCallId: string,
  emit: boolean,
): Promise<unknown> {
  const value = await result;
  if (typeof value !== "object" || value === null || !(Symbol.asyncIterator in value)) return value;
  let last: unknown;
  for await (const item of value as AsyncIterable<unknown>) {
    last = item;
    if (emit)
      step.emit({ type: "tool-output-available", toolCallId, output: item, preliminary: true });
  }
  return last;
}
