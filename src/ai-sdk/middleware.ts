// A model middleware for the AI SDK that makes every generate and stream call a durable step:
// the whole result is journaled, so a replay returns it (a stream is rebuilt from the
// journal) and the provider is never paid twice for a committed call.
import { wrapLanguageModel, type LanguageModelMiddleware } from "ai";
import { NonRetriableError } from "../core/errors.js";
import type { StepContext, WorkflowContext } from "../core/types.js";
import type { Usage } from "../core/usage.js";
import { recordUsage } from "../ai/llm.js";
import { MODEL_RETRIES_DEFAULT } from "../ai/limits.js";
import type { ModelRetryPolicy, PriceTable } from "../ai/model.js";
import { TextPartWriter } from "../ai/text-stream.js";
import { journalGenerate, journalPart, usageOfCall } from "./journal-form.js";
import { providerError } from "./provider-errors.js";
import type { SdkGenerateResult, SdkModel, SdkStreamPart } from "./sdk-types.js";
import { emitGenerated, nextCallId, parseInput } from "./ui-parts.js";

/** Options of {@link durableModel} and {@link endureMiddleware}. */
export interface DurableModelOptions {
  /** The steps' name (default `model`): calls are `model#1`, `model#2`, ... */
  name?: string;
  /** Prices by model id, for the run's cost totals. */
  prices?: PriceTable;
  /** Retries of a failed call, durably (default 5). Pass `maxRetries: 0` to the SDK call. */
  retry?: ModelRetryPolicy;
  /** Write the model's output to the run's output stream (default true). */
  emit?: boolean;
}

/**
 * The middleware behind {@link durableModel}, for `wrapLanguageModel` chains of your own.
 *
 * @example
 * ```ts
 * const model = wrapLanguageModel({ model: openai("gpt-4.1-mini"),
 *   middleware: [endureMiddleware(ctx), otherMiddleware] });
 * ```
 */
export function endureMiddleware(
  ctx: WorkflowContext,
  options: DurableModelOptions = {},
): LanguageModelMiddleware {
  const name = options.name ?? "model";
  const emit = options.emit ?? true;
  const retry = options.retry ?? { retries: MODEL_RETRIES_DEFAULT };
  const stepOptions = {
    retries: retry.retries,
    ...(retry.backoff === undefined ? {} : { backoff: retry.backoff }),
    usage: (r: { usage: Usage }) => r.usage,
  };
  return {
    specificationVersion: "v3",
    async wrapGenerate({ doGenerate, model }) {
      const callId = nextCallId(ctx, name);
      const journaled = await ctx.step(
        name,
        async (): Promise<{ result: SdkGenerateResult; usage: Usage }> => {
          let result: SdkGenerateResult;
          try {
            result = await doGenerate();
          } catch (e) {
            throw providerError(e);
          }
          const modelId = result.response?.modelId ?? model.modelId;
          return {
            result: journalGenerate(result),
            usage: usageOfCall(result.usage, modelId, options.prices),
          };
        },
        stepOptions,
      );
      recordUsage(ctx, journaled.usage);
      if (emit) emitGenerated(ctx, callId, journaled.result.content);
      return journaled.result;
    },
    async wrapStream({ doStream, model }) {
      nextCallId(ctx, name);
      const { readable, writable } = new TransformStream<SdkStreamPart, SdkStreamPart>();
      const writer = writable.getWriter();
      let bodyRan = false;
      if (emit) ctx.emit({ type: "start-step" });
      const done = ctx.step(
        name,
        async (step) => {
          bodyRan = true;
          return streamOnce(step, doStream, writer, emit, model, options.prices);
        },
        stepOptions,
      );
      void done.then(
        async (journaled) => {
          recordUsage(ctx, journaled.usage);
          if (emit) ctx.emit({ type: "finish-step" });
          // Replayed: the body did not run, so the consumer gets the parts from the journal.
          if (!bodyRan) for (const part of journaled.parts) await writer.write(part);
          await writer.close();
        },
        (e: unknown) => writer.abort(e),
      );
      return { stream: readable };
    },
  };
}

/** Types of parts that carry the model's output: once one reached the consumer, a failure
 * is not retried, since a retry would show the consumer a second, different answer. */
const CONTENT = new Set([
  "text-delta",
  "reasoning-delta",
  "tool-input-delta",
  "tool-call",
  "tool-result",
  "file",
  "source",
  "text-start",
  "reasoning-start",
  "tool-input-start",
]);

async function streamOnce(
  step: StepContext,
  doStream: () => PromiseLike<{ stream: ReadableStream<SdkStreamPart> }>,
  writer: WritableStreamDefaultWriter<SdkStreamPart>,
  emit: boolean,
  model: SdkModel,
  prices: PriceTable | undefined,
): Promise<{ parts: SdkStreamPart[]; usage: Usage }> {
  let stream: ReadableStream<SdkStreamPart>;
  try {
    ({ stream } = await doStream());
  } catch (e) {
    throw providerError(e);
  }
  const parts: SdkStreamPart[] = [];
  const held: SdkStreamPart[] = [];
  let reached = false;
  let modelId = model.modelId;
  let usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const text = emit ? new TextPartWriter(step.emit, `${step.stepKey}.${step.attempt}`) : null;
  if (emit && step.attempt > 1)
    step.emit({ type: "data-endure-retry", data: { step: step.stepKey, attempt: step.attempt } });
  try {
    for await (const part of stream as unknown as AsyncIterable<SdkStreamPart>) {
      if (part.type === "error") throw part.error;
      const kept = journalPart(part);
      if (kept === null) continue;
      parts.push(kept);
      if (part.type === "response-metadata" && part.modelId !== undefined) modelId = part.modelId;
      if (part.type === "finish") usage = usageOfCall(part.usage, modelId, prices);
      if (part.type === "text-delta") text?.write(part.delta);
      if (part.type === "tool-call" && emit) {
        step.emit({
          type: "tool-input-available",
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input: parseInput(part.input),
        });
      }
      // Parts before the first content wait, so a failure before any content can retry cleanly.
      if (!reached && !CONTENT.has(part.type)) {
        held.push(part);
        continue;
      }
      reached = true;
      for (const h of held.splice(0)) await writer.write(h);
      await writer.write(part);
    }
    for (const h of held.splice(0)) await writer.write(h);
  } catch (e) {
    if (reached) {
      throw new NonRetriableError(
        `model stream ${step.stepKey} failed after its output reached the caller (${(e as Error)?.message ?? String(e)}); it is not retried, so the caller never sees a second, different answer`,
        { cause: e },
      );
    }
    throw providerError(e);
  } finally {
    text?.end();
  }
  return { parts, usage };
}

/**
 * Wraps an AI SDK model so that each call is a durable step of the run of `ctx`: its whole
 * result is journaled with its tokens and cost, a replay returns it without calling the
 * provider (a stream is rebuilt from the journal), and its output goes to the run's stream.
 * Keep `generateText`, `streamText` and the SDK's agent; pass `maxRetries: 0` to them, since
 * endure retries durably.
 *
 * @example
 * ```ts
 * const answer = workflow("answer", async (ctx, input: { question: string }) => {
 *   const { text } = await generateText({
 *     model: durableModel(ctx, openai("gpt-4.1-mini")),
 *     tools: durableTools(ctx, { search }),
 *     stopWhen: stepCountIs(5),
 *     maxRetries: 0,
 *     prompt: input.question,
 *   });
 *   return text;
 * });
 * ```
 */
export function durableModel(
  ctx: WorkflowContext,
  model: SdkModel,
  options: DurableModelOptions = {},
): SdkModel {
  return wrapLanguageModel({ model, middleware: endureMiddleware(ctx, options) });
}
