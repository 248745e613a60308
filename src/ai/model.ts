// The Model port: one method that answers a request, plus what endure needs to journal,
// retry and price its calls. Adapters (OpenAI-compatible, Anthropic, scripted) implement it.
import type { Duration } from "../core/duration.js";
import type { ModelReply, ModelRequest } from "./messages.js";

/** Prices of one model in US dollars per million tokens, as providers publish them. */
export interface Price {
  readonly input: number;
  readonly output: number;
}

/**
 * Prices by model name. A reply is priced by the name the provider reports, matched exactly
 * or by the longest key it starts with (`gpt-4.1-mini` prices `gpt-4.1-mini-2025-04-14`),
 * falling back to the model the adapter asked for.
 *
 * @example
 * ```ts
 * const prices: PriceTable = { "gpt-4.1-mini": { input: 0.4, output: 1.6 } };
 * ```
 */
export type PriceTable = Readonly<Record<string, Price>>;

/** What a model call gets besides the request: where it stands, and where to stream text. */
export interface ModelCall {
  /** Aborted when the run is cancelled or lost; pass it to the HTTP request. */
  readonly signal: AbortSignal;
  /** Stable across retries and recoveries of this call. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt of this call. */
  readonly attempt: number;
  /** How many calls of this model the run made before this one (0 for the first). */
  readonly callIndex: number;
  /** Present when text should stream: call it with each piece of text as it arrives. */
  readonly onText?: (delta: string) => void;
}

/** How the step of a model call retries. */
export interface ModelRetryPolicy {
  /** Retries after a failed attempt (429, 5xx, timeout, network). */
  readonly retries: number;
  readonly backoff?: { initial?: Duration; max?: Duration };
}

/**
 * A language model endure can call durably. Implement it to bring any provider: answer the
 * request, honour `call.signal`, stream through `call.onText` when given, and throw
 * `RetryAfterError` for rate limits, `NonRetriableError` for requests that can never succeed.
 *
 * @example
 * ```ts
 * const echo: Model = {
 *   provider: "echo", model: "echo-1",
 *   async generate(request) {
 *     const last = request.messages.at(-1)?.content ?? "";
 *     return { text: last, toolCalls: [], finishReason: "stop", model: "echo-1", id: null,
 *               usage: { inputTokens: 1, outputTokens: 1 } };
 *   },
 * };
 * ```
 */
export interface Model {
  /** Who serves it: `openai-compatible`, `anthropic`, `scripted`, ... */
  readonly provider: string;
  /** The model asked for. */
  readonly model: string;
  generate(request: ModelRequest, call: ModelCall): Promise<ModelReply>;
  /** Prices for cost accounting; without them calls cost 0. */
  readonly prices?: PriceTable;
  /** Retries of a failed call; defaults in `ai/limits.ts`. */
  readonly retry?: ModelRetryPolicy;
}

/** The price of a reply: by the reported model name, else by the requested one. */
export function priceOf(prices: PriceTable | undefined, reported: string, requested: string) {
  if (prices === undefined) return null;
  return lookup(prices, reported) ?? lookup(prices, requested);
}

function lookup(prices: PriceTable, name: string): Price | null {
  const exact = prices[name];
  if (exact !== undefined) return exact;
  let best: string | null = null;
  for (const key of Object.keys(prices))
    if (name.startsWith(key) && (best === null || key.length > best.length)) best = key;
  return best === null ? null : (prices[best] ?? null);
}

/** Cost in US dollars of a call's tokens at `price`. */
export function costUsd(price: Price | null, inputTokens: number, outputTokens: number): number {
  if (price === null) return 0;
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}
