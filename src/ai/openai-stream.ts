// Reading an OpenAI-compatible Chat Completions response: its finish reasons, its usage, and
// its SSE stream of deltas assembled into one reply.
import { ModelResponseError } from "./errors.js";
import {
  estimatedUsage,
  type FinishReason,
  type ModelReply,
  type ModelRequest,
} from "./messages.js";
import type { ModelCall } from "./model.js";
import { readSse } from "./sse.js";

/** The reply's finish reason in endure's terms. */
export function finishReason(value: unknown): FinishReason {
  switch (value) {
    case "stop":
    case "length":
    case "content_filter":
      return value;
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    default:
      return "other";
  }
}

/** A tool call, or a piece of one, as the API sends it. */
export interface WireToolCall {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** Token counts as the API reports them. */
export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** Tokens as the API reports them, if it did. */
export function usageOf(usage: WireUsage | undefined): ModelReply["usage"] | undefined {
  if (typeof usage?.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number")
    return undefined;
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

/** Reads a streamed reply, passing text to `call.onText` as it arrives. */
export async function readStream(
  response: Response,
  call: ModelCall,
  request: ModelRequest,
  requested: string,
): Promise<ModelReply> {
  if (response.body === null) throw new ModelResponseError("openai-compatible streamed no body");
  let text = "";
  let id: string | null = null;
  let model = requested;
  let finish: FinishReason = "other";
  let usage: ModelReply["usage"] | undefined;
  let done = false;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  for await (const event of readSse(response.body)) {
    if (event.data === "[DONE]") {
      done = true;
      break;
    }
    let chunk: {
      id?: string;
      model?: string;
      choices?: Array<{
        delta?: { content?: string | null; tool_calls?: WireToolCall[] };
        finish_reason?: string | null;
      }>;
      usage?: WireUsage;
      error?: { message?: string };
    };
    try {
      chunk = JSON.parse(event.data) as typeof chunk;
    } catch {
      throw new ModelResponseError(
        `openai-compatible streamed an event that is not JSON: ${event.data.slice(0, 200)}`,
      );
    }
    if (chunk.error !== undefined) {
      throw new ModelResponseError(
        `openai-compatible streamed an error: ${chunk.error.message ?? "unknown"}`,
      );
    }
    id = chunk.id ?? id;
    model = chunk.model ?? model;
    usage = usageOf(chunk.usage) ?? usage;
    const choice = chunk.choices?.[0];
    if (choice === undefined) continue;
    if (choice.finish_reason) finish = finishReason(choice.finish_reason);
    const delta = choice.delta;
    if (typeof delta?.content === "string" && delta.content !== "") {
      text += delta.content;
      call.onText?.(delta.content);
    }
    for (const d of delta?.tool_calls ?? []) {
      const index = d.index ?? 0;
      const c = calls.get(index) ?? { id: "", name: "", arguments: "" };
      if (d.id !== undefined) c.id = d.id;
      if (d.function?.name !== undefined) c.name += d.function.name;
      if (d.function?.arguments !== undefined) c.arguments += d.function.arguments;
      calls.set(index, c);
    }
  }
  if (!done && finish === "other") {
    throw new ModelResponseError("openai-compatible stream ended before the reply was complete");
  }
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, c]) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
  return {
    text,
    toolCalls,
    finishReason: finish,
    model,
    id,
    usage: usage ?? estimatedUsage(request, text),
  };
}
