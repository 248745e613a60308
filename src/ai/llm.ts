// One durable model call: a step whose result is the model's whole response, priced and
// journaled, so that a replay returns it without calling the model again.
import type { WorkflowContext } from "../core/types.js";
import { addUsage, NO_USAGE, type RunUsage, type Usage } from "../core/usage.js";
import { checkModel, checkReply, checkRequest } from "./check-request.js";
import { MODEL_RETRIES_DEFAULT } from "./limits.js";
import type { ModelRequest, ModelResponse } from "./messages.js";
import { costUsd, priceOf, type Model } from "./model.js";
import { TextPartWriter } from "./text-stream.js";

/** Options of a durable model call. */
export interface LlmOptions {
  /**
   * Stream the reply's text into the run's output stream as it arrives (default false).
   * An attempt after the first starts with a `data-endure-retry` part, so readers know the
   * text of earlier attempts of this call is superseded.
   */
  stream?: boolean;
}

/** Calls of each model per run, so a scripted model answers the same on replay. */
const callCounts = new WeakMap<WorkflowContext, Map<Model, number>>();
/** What the run's model calls used so far, as its code saw them (for budgets). */
const spentByRun = new WeakMap<WorkflowContext, RunUsage>();

/**
 * What the model calls of this run used so far, as its code saw them (the same on replay).
 *
 * @example
 * ```ts
 * if (usageSoFar(ctx).costUsd > 1) await ctx.approval("spend more", { title: "Past $1: go on?" });
 * ```
 */
export function usageSoFar(ctx: WorkflowContext): RunUsage {
  return spentByRun.get(ctx) ?? NO_USAGE;
}

/** Adds a call's usage to the run's running totals; for integrations that meter calls. */
export function recordUsage(ctx: WorkflowContext, usage: Usage): void {
  spentByRun.set(ctx, addUsage(usageSoFar(ctx), usage));
}

function nextCallIndex(ctx: WorkflowContext, model: Model): number {
  let counts = callCounts.get(ctx);
  if (counts === undefined) callCounts.set(ctx, (counts = new Map<Model, number>()));
  const index = counts.get(model) ?? 0;
  counts.set(model, index + 1);
  return index;
}

/** The usage a response records for the run's totals. */
export function usageOf(response: ModelResponse): Usage {
  return {
    inputTokens: response.usage.inputTokens,
    outputTokens: response.usage.outputTokens,
    costUsd: response.usage.costUsd,
  };
}

/**
 * Calls `model` once, durably: the call is a step named `name`, retried on rate limits and
 * provider failures, and its whole response (text, tool calls, tokens, cost) is journaled.
 * A replay returns the journaled response; the model is never paid twice for it.
 *
 * @example
 * ```ts
 * const reply = await llm(ctx, "classify", model, {
 *   system: "Answer with one word: positive or negative.",
 *   messages: [{ role: "user", content: review }],
 * });
 * ```
 */
export async function llm(
  ctx: WorkflowContext,
  name: string,
  model: Model,
  request: ModelRequest,
  options: LlmOptions = {},
): Promise<ModelResponse> {
  checkModel(model, `llm '${name}'`);
  checkRequest(request, `llm '${name}'`);
  const callIndex = nextCallIndex(ctx, model);
  const stream = options.stream === true;
  const retry = model.retry ?? { retries: MODEL_RETRIES_DEFAULT };
  const response = await ctx.step(
    name,
    async (step): Promise<ModelResponse> => {
      if (stream && step.attempt > 1) {
        step.emit({
          type: "data-endure-retry",
          data: { step: step.stepKey, attempt: step.attempt },
        });
      }
      const text = stream ? new TextPartWriter(step.emit, `${step.stepKey}.${step.attempt}`) : null;
      try {
        const raw = await model.generate(request, {
          signal: step.signal,
          idempotencyKey: step.idempotencyKey,
          attempt: step.attempt,
          callIndex,
          ...(text === null ? {} : { onText: text.write }),
        });
        const reply = checkReply(raw, request, model);
        const price = priceOf(model.prices, reply.model, model.model);
        const cost = costUsd(price, reply.usage.inputTokens, reply.usage.outputTokens);
        return { ...reply, usage: { ...reply.usage, costUsd: cost } };
      } finally {
        text?.end();
      }
    },
    {
      retries: retry.retries,
      ...(retry.backoff === undefined ? {} : { backoff: retry.backoff }),
      usage: (r: ModelResponse) => ({ ...usageOf(r), model: r.model, system: model.provider }),
    },
  );
  recordUsage(ctx, usageOf(response));
  return response;
}
