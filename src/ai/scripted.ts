// A model that answers from a fixed script: for tests, and for demos that run offline.
import { InvalidArgumentError, NonRetriableError } from "../core/errors.js";
import type { FinishReason, ModelReply, ModelRequest, ToolCall } from "./messages.js";
import { estimatedUsage } from "./messages.js";
import type { Model, ModelCall, ModelRetryPolicy, PriceTable } from "./model.js";

/** A tool call in a script: give `input` (sent as JSON) or raw `arguments` text. */
export interface ScriptedToolCall {
  readonly name: string;
  readonly input?: unknown;
  /** Raw argument text, for scripting malformed JSON. */
  readonly arguments?: string;
  readonly id?: string;
}

/**
 * One scripted answer: text, or text and tool calls with optional usage. An `Error` is
 * thrown instead of answering; a function computes the answer from the request.
 */
export type ScriptedReply =
  | string
  | Error
  | {
      readonly text?: string;
      readonly toolCalls?: readonly ScriptedToolCall[];
      readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
      readonly finishReason?: FinishReason;
    }
  | ((request: ModelRequest, call: ModelCall) => ScriptedReply | Promise<ScriptedReply>);

/** Options of {@link scriptedModel}. */
export interface ScriptedModelOptions {
  /** The model name it reports. Default `scripted`. */
  model?: string;
  prices?: PriceTable;
  retry?: ModelRetryPolicy;
  /** Pause before each answer, in milliseconds, to make a demo watchable. Default 0. */
  delayMs?: number;
}

/**
 * A model that replays `replies` in order: the run's first call of this model gets the
 * first reply, the second call the second, and so on, the same after a restart (the count
 * comes from the run, not from memory). Text streams word by word when streaming is on.
 *
 * @example
 * ```ts
 * const model = scriptedModel([
 *   { toolCalls: [{ name: "search", input: { q: "vector databases" } }] },
 *   "Three leads: Acme, Globex and Initech.",
 * ]);
 * ```
 */
export function scriptedModel(
  replies: readonly ScriptedReply[] | ((request: ModelRequest, call: ModelCall) => ScriptedReply),
  options: ScriptedModelOptions = {},
): Model {
  if (!Array.isArray(replies) && typeof replies !== "function") {
    throw new InvalidArgumentError("scriptedModel needs an array of replies or a function");
  }
  const name = options.model ?? "scripted";
  return {
    provider: "scripted",
    model: name,
    ...(options.prices === undefined ? {} : { prices: options.prices }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    async generate(request: ModelRequest, call: ModelCall): Promise<ModelReply> {
      let reply: ScriptedReply | undefined;
      if (typeof replies === "function") reply = replies(request, call);
      else {
        const list: readonly ScriptedReply[] = replies;
        reply = list[call.callIndex];
        if (reply === undefined) {
          throw new NonRetriableError(
            `scriptedModel '${name}' has ${list.length} replies; call ${call.callIndex + 1} of it asked for one more`,
          );
        }
      }
      while (typeof reply === "function") reply = await reply(request, call);
      if (reply instanceof Error) throw reply;
      if ((options.delayMs ?? 0) > 0) await pause(options.delayMs ?? 0, call.signal);
      return answer(reply, request, call, name);
    },
  };
}

function answer(
  reply: Exclude<ScriptedReply, Error | ((...args: never[]) => unknown)>,
  request: ModelRequest,
  call: ModelCall,
  model: string,
): ModelReply {
  const r = typeof reply === "string" ? { text: reply } : reply;
  const text = r.text ?? "";
  for (const word of text.match(/\S+\s*|\s+/g) ?? []) call.onText?.(word);
  const toolCalls: ToolCall[] = (r.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${call.callIndex}_${i}`,
    name: c.name,
    arguments: c.arguments ?? JSON.stringify(c.input ?? {}),
  }));
  return {
    text,
    toolCalls,
    finishReason: r.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
    model,
    id: `scripted-${call.callIndex}`,
    usage: r.usage ?? estimatedUsage(request, text),
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
