// The shapes of an agent's options and result.
import type { WorkflowContext } from "../core/types.js";
import type { RunUsage } from "../core/usage.js";
import type { Budget } from "./budget.js";
import type { ContextStrategy } from "./context.js";
import type { Model } from "./model.js";
import type { Tools } from "./tool.js";

/** A check of the final answer: true (or nothing) accepts it; false or a reason sends the
 * model back to work with that reason. Runs as a step, so it may do I/O. */
export type AnswerCheck = (
  answer: string,
) => boolean | string | void | Promise<boolean | string | void>;

/** Options of {@link agent}. */
export interface AgentOptions {
  model: Model;
  /** The system prompt. */
  system?: string;
  /** What the agent does, in a sentence: shown on its A2A Agent Card. */
  description?: string;
  /**
   * Served over A2A at `/a2a/<name>` by an endure server (default true); false keeps it
   * private. See docs/a2a.md.
   */
  a2a?: boolean;
  /** The tools, or a function that loads them in the run (MCP tools, say). */
  tools?: Tools | ((ctx: WorkflowContext) => Promise<Tools>);
  /** Most model calls before the run fails with `MaxTurnsExceededError`. Default 20. */
  maxTurns?: number;
  /** A limit in tokens or US dollars; see {@link Budget}. */
  budget?: Budget;
  /** Reason-Act-Verify at the end: a check the final answer must pass. */
  verify?: AnswerCheck;
  /** How prompts are built from the history. Default: the full history. */
  context?: ContextStrategy;
  /** Stream the model's text into the run's output stream as it is written. Default true. */
  stream?: boolean;
  /** Most output tokens per model call. */
  maxOutputTokens?: number;
  temperature?: number;
  /** Recorded in each run's journal; bump it when the agent changes shape. */
  version?: string;
}

/** What an agent run returns. */
export interface AgentResult {
  /** The final answer. */
  readonly text: string;
  /** Model calls the agent made. */
  readonly turns: number;
  /** Tool calls the model asked for, refused ones included. */
  readonly toolCalls: number;
  /** What the run's model calls used, summaries included. */
  readonly usage: RunUsage;
}

/** The checked options the loop runs with. */
export interface AgentSpec extends AgentOptions {
  readonly name: string;
  readonly maxTurns: number;
  readonly stream: boolean;
}
