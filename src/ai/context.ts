// Context strategies: how the messages sent on each turn are built from the run's whole
// history. The journal keeps everything the agent did; the prompt need not.
import { InvalidArgumentError } from "../core/errors.js";
import type { WorkflowContext } from "../core/types.js";
import { checkModel } from "./check-request.js";
import { llm } from "./llm.js";
import type { Message, ModelRequest } from "./messages.js";
import type { Model } from "./model.js";

/** What a context builder may ask of the agent running it. */
export interface ContextHost {
  readonly ctx: WorkflowContext;
  /** Checks a model call the strategy wants to make against the agent's budget. */
  readonly guard: (request: ModelRequest) => Promise<ModelRequest>;
}

/** Builds one run's prompts; made per run by {@link ContextStrategy.start}. */
export interface ContextBuilder {
  build(history: readonly Message[]): Promise<Message[]>;
}

/**
 * How an agent turns its history into the messages of the next model call. Builders may
 * call models only through durable steps (`llm`), so that a replay builds the same prompts.
 *
 * @example
 * ```ts
 * const recentOnly: ContextStrategy = {
 *   kind: "endure.context", name: "recent",
 *   start: () => ({ build: async (history) => history.slice(-10) }),
 * };
 * ```
 */
export interface ContextStrategy {
  readonly kind: "endure.context";
  readonly name: string;
  start(host: ContextHost): ContextBuilder;
}

/**
 * The default strategy: every message of the run, every turn.
 *
 * @example
 * ```ts
 * agent("helper", { model, context: fullHistory() });
 * ```
 */
export function fullHistory(): ContextStrategy {
  return {
    kind: "endure.context",
    name: "full history",
    start: () => ({ build: (history) => Promise.resolve([...history]) }),
  };
}

/** Options of {@link lastTurns}. */
export interface LastTurnsOptions {
  /** The model that writes summaries (often a smaller one than the agent's). */
  model: Model;
  /** The summarizer's instructions. */
  prompt?: string;
}

const SUMMARY_PROMPT =
  "You keep the working memory of an agent. Summarize the earlier summary and the turns below " +
  "for the agent itself: the task, what was done, what was learned and what remains. Keep " +
  "names, numbers, ids and decisions exactly. Answer with the summary only.";

/** Characters of one message shown to the summarizer. */
const SUMMARY_MESSAGE_CHARS_MAX = 4_000;

/**
 * Keeps the task, a summary of older turns and the last `n` turns. When `n` turns have
 * dropped out of the window, a durable step (`summarize context`) folds them into the
 * summary, so a prompt holds at most the task, the summary and `2n - 1` turns.
 *
 * @example
 * ```ts
 * agent("researcher", { model, context: lastTurns(6, { model: smallModel }) });
 * ```
 */
export function lastTurns(n: number, options: LastTurnsOptions): ContextStrategy {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(
      `lastTurns needs a whole number of turns of at least 1, got ${String(n)}`,
    );
  }
  checkModel(options?.model, "lastTurns");
  const prompt = options.prompt ?? SUMMARY_PROMPT;
  return {
    kind: "endure.context",
    name: `last ${n} turns and a summary`,
    start(host) {
      let summary: string | null = null;
      let folded = 0;
      return {
        async build(history) {
          const { task, turns } = splitTurns(history);
          const older = turns.slice(folded, Math.max(folded, turns.length - n));
          if (older.length >= n) {
            const request = await host.guard({
              system: prompt,
              messages: [{ role: "user", content: transcript(summary, older) }],
            });
            const reply = await llm(host.ctx, "summarize context", options.model, request);
            summary = reply.text;
            folded += older.length;
          }
          const note: Message[] =
            summary === null
              ? []
              : [{ role: "user", content: `Summary of the earlier turns:\n${summary}` }];
          return [...task, ...note, ...turns.slice(folded).flat()];
        },
      };
    },
  };
}

/** The task (messages before the first reply) and the turns, each from a reply on. */
export function splitTurns(history: readonly Message[]): { task: Message[]; turns: Message[][] } {
  const task: Message[] = [];
  const turns: Message[][] = [];
  for (const m of history) {
    if (m.role === "assistant") turns.push([m]);
    else if (turns.length === 0) task.push(m);
    else turns[turns.length - 1]?.push(m);
  }
  return { task, turns };
}

function transcript(summary: string | null, turns: Message[][]): string {
  const cut = (text: string) =>
    text.length > SUMMARY_MESSAGE_CHARS_MAX ? `${text.slice(0, SUMMARY_MESSAGE_CHARS_MAX)}…` : text;
  const lines: string[] = [`Earlier summary: ${summary ?? "(none)"}`, "", "Turns:"];
  for (const m of turns.flat()) {
    if (m.role === "assistant") {
      if (m.content !== "") lines.push(`assistant: ${cut(m.content)}`);
      for (const c of m.toolCalls ?? [])
        lines.push(`assistant called ${c.name}(${cut(c.arguments)})`);
    } else if (m.role === "tool") {
      lines.push(`${m.name} ${m.isError === true ? "failed" : "returned"}: ${cut(m.content)}`);
    } else lines.push(`user: ${cut(m.content)}`);
  }
  return lines.join("\n");
}
