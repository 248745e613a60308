// An adapter for Anthropic's Messages API, streamed or not.
import { parseDuration, type Duration } from "../core/duration.js";
import { InvalidArgumentError } from "../core/errors.js";
import { httpModel, type Fetch } from "./http.js";
import { ANTHROPIC_MAX_TOKENS_DEFAULT, MODEL_REQUEST_TIMEOUT_MS_DEFAULT } from "./limits.js";
import {
  estimatedUsage,
  type Message,
  type ModelReply,
  type ModelRequest,
  type ToolCall,
} from "./messages.js";
import type { Model, ModelRetryPolicy, PriceTable } from "./model.js";
import { ModelResponseError } from "./errors.js";
import { finishReason, readStream, type WireUsage } from "./anthropic-stream.js";

/** Options of {@link anthropic}. */
export interface AnthropicOptions {
  /** The model, such as `claude-sonnet-4-5`. */
  model: string;
  /** Where the API lives, without `/v1`. Default `https://api.anthropic.com`. */
  baseURL?: string | undefined;
  /** Sent as `x-api-key`. Read it from your environment and pass it here. */
  apiKey?: string | undefined;
  /** The API version header. Default `2023-06-01`. */
  version?: string;
  /** More headers for every request (beta flags, a gateway's key). */
  headers?: Record<string, string>;
  /** Longest a request may take, whole response included. Default `"2m"`. */
  timeout?: Duration;
  /** Output tokens when a request sets none (the API requires a number). Default 4,096. */
  maxTokens?: number;
  /** Stream replies (default true). */
  stream?: boolean;
  prices?: PriceTable;
  retry?: ModelRetryPolicy;
  fetch?: Fetch;
}

/**
 * A model served by Anthropic's Messages API. Rate limits, overload (529) and other
 * provider failures are retried by the call's step; other refusals fail at once.
 *
 * @example
 * ```ts
 * const model = anthropic({ apiKey: process.env.ANTHROPIC_API_KEY, model: "claude-sonnet-4-5",
 *   prices: { "claude-sonnet-4-5": { input: 3, output: 15 } } });
 * ```
 */
export function anthropic(options: AnthropicOptions): Model {
  if (typeof options?.model !== "string" || options.model === "") {
    throw new InvalidArgumentError("anthropic needs a model name, such as 'claude-sonnet-4-5'");
  }
  const base = (options.baseURL ?? "https://api.anthropic.com").replace(/\/+$/, "");
  const url = `${base}/v1/messages`;
  const timeoutMs =
    options.timeout === undefined
      ? MODEL_REQUEST_TIMEOUT_MS_DEFAULT
      : parseDuration(options.timeout, "anthropic timeout");
  const headers: Record<string, string> = {
    "anthropic-version": options.version ?? "2023-06-01",
    ...options.headers,
  };
  if (options.apiKey !== undefined && options.apiKey !== "") headers["x-api-key"] = options.apiKey;
  const maxTokens = options.maxTokens ?? ANTHROPIC_MAX_TOKENS_DEFAULT;
  return httpModel({
    provider: "anthropic",
    model: options.model,
    url,
    headers,
    timeoutMs,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    stream: options.stream ?? true,
    prices: options.prices,
    retry: options.retry,
    body: (request, stream) => requestBody(options.model, request, stream, maxTokens),
    readStream: (response, call, request) => readStream(response, call, request, options.model),
    readJson: (response, request) => readJson(response, request, options.model),
  });
}

type Block = Record<string, unknown>;
interface WireMessage {
  role: "user" | "assistant";
  content: Block[];
}

function requestBody(
  model: string,
  request: ModelRequest,
  stream: boolean,
  maxTokens: number,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    max_tokens: request.maxOutputTokens ?? maxTokens,
    messages: wireMessages(request.messages),
  };
  if (request.system !== undefined) body["system"] = request.system;
  if (request.tools !== undefined && request.tools.length > 0) {
    body["tools"] = request.tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema,
    }));
  }
  if (request.temperature !== undefined) body["temperature"] = request.temperature;
  if (stream) body["stream"] = true;
  return body;
}

/** Anthropic wants user and assistant turns alternating: consecutive ones are merged. */
function wireMessages(messages: readonly Message[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of messages) {
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks = blocksOf(m);
    const last = out[out.length - 1];
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function blocksOf(m: Message): Block[] {
  if (m.role === "user") return [{ type: "text", text: m.content }];
  if (m.role === "tool") {
    return [
      {
        type: "tool_result",
        tool_use_id: m.toolCallId,
        content: m.content,
        ...(m.isError === true ? { is_error: true } : {}),
      },
    ];
  }
  const blocks: Block[] = m.content === "" ? [] : [{ type: "text", text: m.content }];
  for (const c of m.toolCalls ?? [])
    blocks.push({ type: "tool_use", id: c.id, name: c.name, input: parseInput(c.arguments) });
  return blocks;
}

/** Tool input as an object; arguments that were never valid JSON are sent as `{}`. */
function parseInput(text: string): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

async function readJson(
  response: Response,
  request: ModelRequest,
  requested: string,
): Promise<ModelReply> {
  const raw = await response.text();
  let body: {
    id?: string;
    model?: string;
    content?: Array<{ type?: string; text?: string; id?: string; name?: string; input?: unknown }>;
    stop_reason?: string;
    usage?: WireUsage;
  };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    throw new ModelResponseError(
      `anthropic answered with a body that is not JSON: ${raw.slice(0, 200)}`,
    );
  }
  if (!Array.isArray(body.content)) {
    throw new ModelResponseError(`anthropic answered without content: ${raw.slice(0, 200)}`);
  }
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (block.type === "text") text += block.text ?? "";
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id ?? `toolu_${toolCalls.length}`,
        name: block.name ?? "",
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
  }
  const u = body.usage;
  return {
    text,
    toolCalls,
    finishReason: finishReason(body.stop_reason),
    model: body.model ?? requested,
    id: body.id ?? null,
    usage:
      typeof u?.input_tokens === "number" && typeof u.output_tokens === "number"
        ? { inputTokens: u.input_tokens, outputTokens: u.output_tokens }
        : estimatedUsage(request, text),
  };
}
