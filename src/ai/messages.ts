// Deterministic: the conversation vocabulary every model adapter speaks.

/** A tool call the model asked for. `arguments` is the model's raw JSON text, unparsed. */
export interface ToolCall {
  /** The provider's id for the call (`call_…`, `toolu_…`), echoed back with its result. */
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A message of the task: what the user asked. */
export interface UserMessage {
  readonly role: "user";
  readonly content: string;
}

/** A model reply: text, tool calls, or both. */
export interface AssistantMessage {
  readonly role: "assistant";
  readonly content: string;
  readonly toolCalls?: readonly ToolCall[];
}

/** The result of one tool call, sent back to the model. */
export interface ToolMessage {
  readonly role: "tool";
  readonly toolCallId: string;
  /** The tool's name, as the model called it. */
  readonly name: string;
  readonly content: string;
  /** True when the call failed or was refused: the content says why. */
  readonly isError?: boolean;
}

/** One message of a conversation. The system prompt travels apart, in the request. */
export type Message = UserMessage | AssistantMessage | ToolMessage;

/** A tool as the model sees it: a name, what it does, and the JSON Schema of its input. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/** What a model is asked. */
export interface ModelRequest {
  readonly system?: string;
  readonly messages: readonly Message[];
  readonly tools?: readonly ToolSpec[];
  /** Most tokens the reply may use. */
  readonly maxOutputTokens?: number;
  readonly temperature?: number;
}

/** Why a model stopped. */
export type FinishReason = "stop" | "tool_calls" | "length" | "content_filter" | "other";

/** Tokens a call used, as the provider reported them (or estimated, see `estimated`). */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** True when the provider reported nothing and the counts are estimates from text length. */
  readonly estimated?: boolean;
}

/** A model's answer as an adapter returns it. */
export interface ModelReply {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  readonly finishReason: FinishReason;
  readonly usage: TokenUsage;
  /** The model that answered, as the provider named it. */
  readonly model: string;
  /** The provider's id of the response, if it gave one. */
  readonly id: string | null;
}

/** A model's answer as `llm` journals and returns it: the reply and what it cost. */
export interface ModelResponse extends ModelReply {
  readonly usage: TokenUsage & {
    /** US dollars, from the model's price table (0 when it has no price for the model). */
    readonly costUsd: number;
  };
}

/** Characters per token used where a count must be estimated from text. */
export const CHARS_PER_TOKEN_ESTIMATE = 4;

/** Estimated tokens of a request: its characters over {@link CHARS_PER_TOKEN_ESTIMATE}. */
export function estimateTokens(request: ModelRequest): number {
  let chars = request.system?.length ?? 0;
  for (const m of request.messages) {
    chars += m.content.length;
    if (m.role === "assistant")
      for (const c of m.toolCalls ?? []) chars += c.name.length + c.arguments.length;
  }
  for (const t of request.tools ?? [])
    chars += t.name.length + t.description.length + JSON.stringify(t.inputSchema).length;
  return Math.ceil(chars / CHARS_PER_TOKEN_ESTIMATE);
}

/** Usage estimated from text length, for providers that report none. */
export function estimatedUsage(request: ModelRequest, replyText: string): TokenUsage {
  return {
    inputTokens: estimateTokens(request),
    outputTokens: Math.ceil(replyText.length / CHARS_PER_TOKEN_ESTIMATE),
    estimated: true,
  };
}
