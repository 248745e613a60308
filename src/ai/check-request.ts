// Deterministic: checks a model request and a model's reply at the boundary, so that bad
// input fails with a clear error instead of a provider's 400 or a broken journal entry.
import { InvalidArgumentError } from "../core/errors.js";
import type { Model } from "./model.js";
import type { Message, ModelReply, ModelRequest, ToolCall } from "./messages.js";
import { estimatedUsage } from "./messages.js";
import { ModelResponseError } from "./errors.js";

const ROLES = new Set(["user", "assistant", "tool"]);
const FINISH = new Set(["stop", "tool_calls", "length", "content_filter", "other"]);

/** Refuses something that is not a {@link Model}. */
export function checkModel(model: unknown, what: string): asserts model is Model {
  const m = model as Partial<Model> | null;
  if (typeof m !== "object" || m === null || typeof m.generate !== "function") {
    throw new InvalidArgumentError(
      `${what} needs a model (openaiCompatible(...), anthropic(...), scriptedModel(...) or your own Model)`,
    );
  }
}

/** Refuses a request a provider would refuse. */
export function checkRequest(request: ModelRequest, what: string): void {
  if (typeof request !== "object" || request === null || !Array.isArray(request.messages)) {
    throw new InvalidArgumentError(`${what} needs a request with a messages array`);
  }
  if (request.messages.length === 0) {
    throw new InvalidArgumentError(`${what} needs at least one message`);
  }
  request.messages.forEach((m: Message, i) => {
    if (typeof m !== "object" || m === null || !ROLES.has(m.role)) {
      throw new InvalidArgumentError(
        `${what}: message ${i} needs a role of "user", "assistant" or "tool"`,
      );
    }
    if (typeof m.content !== "string") {
      throw new InvalidArgumentError(`${what}: message ${i} needs its content as a string`);
    }
  });
}

/** Checks and copies a reply a model returned, filling estimated usage when it has none. */
export function checkReply(reply: unknown, request: ModelRequest, model: Model): ModelReply {
  const r = reply as Partial<ModelReply> | null;
  const fail = (problem: string): never => {
    throw new ModelResponseError(`${model.provider} model ${model.model} returned ${problem}`);
  };
  if (typeof r !== "object" || r === null) return fail("no reply object");
  if (typeof r.text !== "string") return fail('a reply without text (use "" for none)');
  const calls = r.toolCalls ?? [];
  if (!Array.isArray(calls)) return fail("toolCalls that is not an array");
  const toolCalls: ToolCall[] = calls.map((c: Partial<ToolCall>, i) => {
    if (typeof c?.id !== "string" || typeof c.name !== "string" || typeof c.arguments !== "string")
      return fail(`tool call ${i} without a string id, name and arguments`);
    return { id: c.id, name: c.name, arguments: c.arguments };
  });
  const u = r.usage;
  const counted =
    typeof u?.inputTokens === "number" && typeof u.outputTokens === "number"
      ? { inputTokens: u.inputTokens, outputTokens: u.outputTokens }
      : null;
  const usage = counted ?? estimatedUsage(request, r.text);
  return {
    text: r.text,
    toolCalls,
    finishReason: FINISH.has(r.finishReason ?? "")
      ? (r.finishReason as ModelReply["finishReason"])
      : "other",
    usage: u?.estimated === true ? { ...usage, estimated: true } : usage,
    model: typeof r.model === "string" && r.model !== "" ? r.model : model.model,
    id: typeof r.id === "string" ? r.id : null,
  };
}
