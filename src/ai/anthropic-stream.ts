// Reading an Anthropic Messages response: its stop reasons and its SSE stream of events
// assembled into one reply.
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
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
      return "length";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}

/** Token counts as the API reports them. */
export interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
}

interface StreamEvent {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: WireUsage };
  content_block?: { type?: string; id?: string; name?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: WireUsage;
  error?: { type?: string; message?: string };
}

/** Reads a streamed reply, passing text to `call.onText` as it arrives. */
export async function readStream(
  response: Response,
  call: ModelCall,
  request: ModelRequest,
  requested: string,
): Promise<ModelReply> {
  if (response.body === null) throw new ModelResponseError("anthropic streamed no body");
  let text = "";
  let id: string | null = null;
  let model = requested;
  let finish: FinishReason = "other";
  let inputTokens: number | undefined;
  let outputTokens: number | undefined;
  let stopped = false;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  for await (const sse of readSse(response.body)) {
    let event: StreamEvent;
    try {
      event = JSON.parse(sse.data) as StreamEvent;
    } catch {
      throw new ModelResponseError(
        `anthropic streamed an event that is not JSON: ${sse.data.slice(0, 200)}`,
      );
    }
    switch (event.type) {
      case "message_start":
        id = event.message?.id ?? id;
        model = event.message?.model ?? model;
        inputTokens = event.message?.usage?.input_tokens ?? inputTokens;
        outputTokens = event.message?.usage?.output_tokens ?? outputTokens;
        break;
      case "content_block_start":
        if (event.content_block?.type === "tool_use") {
          calls.set(event.index ?? calls.size, {
            id: event.content_block.id ?? "",
            name: event.content_block.name ?? "",
            arguments: "",
          });
        }
        break;
      case "content_block_delta":
        if (event.delta?.type === "text_delta" && event.delta.text !== undefined) {
          text += event.delta.text;
          call.onText?.(event.delta.text);
        } else if (event.delta?.type === "input_json_delta") {
          const c = calls.get(event.index ?? -1);
          if (c !== undefined) c.arguments += event.delta.partial_json ?? "";
        }
        break;
      case "message_delta":
        if (event.delta?.stop_reason !== undefined) finish = finishReason(event.delta.stop_reason);
        outputTokens = event.usage?.output_tokens ?? outputTokens;
        inputTokens = event.usage?.input_tokens ?? inputTokens;
        break;
      case "message_stop":
        stopped = true;
        break;
      case "error":
        throw new ModelResponseError(
          `anthropic streamed an error: ${event.error?.type ?? "error"}: ${event.error?.message ?? "unknown"}`,
        );
      default:
        break;
    }
    if (stopped) break;
  }
  if (!stopped) throw new ModelResponseError("anthropic stream ended before message_stop");
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, c]) => ({ id: c.id || `toolu_${i}`, name: c.name, arguments: c.arguments || "{}" }));
  return {
    text,
    toolCalls,
    finishReason: finish,
    model,
    id,
    usage:
      inputTokens !== undefined && outputTokens !== undefined
        ? { inputTokens, outputTokens }
        : estimatedUsage(request, text),
  };
}
