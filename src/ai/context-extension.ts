// Gives every workflow context an `llm` method once endure/ai is imported: `ctx.llm(name,
// model, request)` is `llm(ctx, name, model, request)`, available in any workflow.
import { RunContext } from "../core/run-context.js";
import type { WorkflowContext } from "../core/types.js";
import { llm, type LlmOptions } from "./llm.js";
import type { ModelRequest, ModelResponse } from "./messages.js";
import type { Model } from "./model.js";

declare module "../core/types.js" {
  interface WorkflowContext {
    /**
     * One durable model call (available once `endure/ai` is imported): a step whose whole
     * response is journaled, so a replay never calls the model again.
     *
     * @example
     * ```ts
     * const { text } = await ctx.llm("summarize", model, {
     *   messages: [{ role: "user", content: `Summarize: ${page}` }],
     * });
     * ```
     */
    llm(
      name: string,
      model: Model,
      request: ModelRequest,
      options?: LlmOptions,
    ): Promise<ModelResponse>;
  }
}

declare module "../core/run-context.js" {
  interface RunContext {
    llm: WorkflowContext["llm"];
  }
}

RunContext.prototype.llm = function (this: RunContext, name, model, request, options) {
  return llm(this, name, model, request, options);
};
