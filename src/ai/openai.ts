// An adapter for any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama,
// LM Studio, gateways), streamed or not.
import { parseDuration, type Duration } from "../core/duration.js";
import { InvalidArgumentError } from "../core/errors.js";
import { httpModel, type Fetch } from "./http.js";
import { MODEL_REQUEST_TIMEOUT_MS_DEFAULT } from "./limits.js";
import {
  estimatedUsage,
  type Message,
  type ModelReply,
  type ModelRequest,
  type ToolCall,
} from "./messages.js";
import type { Model, ModelRetryPolicy, PriceTable } from "./model.js";
import { ModelResponseError } from "./errors.js";
import {
  finishReason,
  readStream,
  usageOf,
  type WireToolCall,
  type WireUsage,
} from "./openai-stream.js";

/** Options of {@link openaiCompatible}. */
export interface OpenAICompatibleOptions {
  /** The model to ask for, such as `gpt-4.1-mini` or `llama3.1`. */
  model: string;
  /** Where the API lives, up to `/v1`. Default `https://api.openai.com/v1`. */
  baseURL?: string | undefined;
  /** Sent as a bearer token. Read it from your environment and pass it here. */
  apiKey?: string | undefined;
  /** More headers for every request (an organization, a gateway's key). */
  headers?: Record<string, string>;
  /** Longest a request may take, whole response included. Default `"2m"`. */
  timeout?: Duration;
  /** Stream replies (default true): text reaches the run's output stream as it is written. */
  stream?: boolean;
  /** Prices for cost accounting. */
  prices?: PriceTable;
  /** Retries of failed calls (default 5) and their backoff. */
  retry?: ModelRetryPolicy;
  /** The name of the output-token limit the server reads. Default `max_tokens`; OpenAI's
   * reasoning models want `max_completion_tokens`. */
  maxTokensParam?: "max_tokens" | "max_completion_tokens";
  /** A fetch of your own (a proxy agent, a test double). Default: the global fetch. */
  fetch?: Fetch;
}

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/**
 * A model served by an OpenAI-compatible Chat Completions endpoint. Rate limits (429 with
 * `Retry-After`) and provider failures (5xx, timeouts, network) are retried by the call's
 * step; other refusals fail at once with the provider's message.
 *
 * @example
 * ```ts
 * const model = openaiCompatible({
 *   baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY,
 *   model: "gpt-4.1-mini", prices: { "gpt-4.1-mini": { input: 0.4, output: 1.6 } },
 * });
 * ```
 */
export function openaiCompatible(options: OpenAICompatibleOptions): Model {
  if (typeof options?.model !== "string" || options.model === "") {
    throw new InvalidArgumentError("openaiCompatible needs a model name, such as 'gpt-4.1-mini'");
  }
  const base = (options.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const url = `${base}/chat/completions`;
  const timeoutMs =
    options.timeout === undefined
      ? MODEL_REQUEST_TIMEOUT_MS_DEFAULT
      : parseDuration(options.timeout, "openaiCompatible timeout");
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined && options.apiKey !== "")
    headers["authorization"] = `Bearer ${options.apiKey}`;
  const maxTokensParam = options.maxTokensParam ?? "max_tokens";
  return httpModel({
    provider: "openai-compatible",
    model: options.model,
    url,
    headers,
    timeoutMs,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    stream: options.stream ?? true,
    prices: options.prices,
    retry: options.retry,
    body: (request, stream) => requestBody(options.model, request, stream, maxTokensParam),
    readStream: (response, call, request) => readStream(response, call, request, options.model),
    readJson: (response, request) => readJson(response, request, options.model),
  });
}

function requestBody(
  model: string,
  request: ModelRequest,
  stream: boolean,
  maxTokensParam: string,
): Record<string, unknown> {
  const messages: unknown[] = [];
  if (request.system !== undefined) messages.push({ role: "system", content: request.system });
  for (const m of request.messages) messages.push(wireMessage(m));
  const body: Record<string, unknown> = { model, messages };
  if (request.tools !== undefined && request.tools.length > 0) {
    body["tools"] = request.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.inputSchema },
    }));
  }
  if (request.maxOutputTokens !== undefined) body[maxTokensParam] = request.maxOutputTokens;
  if (request.temperature !== undefined) body["temperature"] = request.temperature;
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = { include_usage: true };
  }
  return body;
}

function wireMessage(m: Message): unknown {
  if (m.role === "user") return { role: "user", content: m.content };
  if (m.role === "tool") return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  const calls = m.toolCalls ?? [];
  return {
    role: "assistant",
    content: m.content === "" && calls.length > 0 ? null : m.content,
    ...(calls.length === 0
      ? {}
      : {
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: c.arguments },
          })),
        }),
  };
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
    choices?: Array<{
      message?: { content?: string | null; tool_calls?: WireToolCall[] };
      finish_reason?: string;
    }>;
    usage?: WireUsage;
  };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    throw new ModelResponseError(
      `openai-compatible answered with a body that is not JSON: ${raw.slice(0, 200)}`,
    );
  }
  const choice = body.choices?.[0];
  if (choice?.message === undefined) {
    throw new ModelResponseError(
      `openai-compatible answered without a choice: ${raw.slice(0, 200)}`,
    );
  }
  const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}`,
    name: c.function?.name ?? "",
    arguments: c.function?.arguments ?? "",
  }));
  const text = choice.message.content ?? "";
  return {
    text,
    toolCalls,
    finishReason: finishReason(choice.finish_reason),
    model: body.model ?? requested,
    id: body.id ?? null,
    usage: usageOf(body.usage) ?? estimatedUsage(request, text),
  };
}
