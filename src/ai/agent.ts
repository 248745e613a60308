// agent(): a workflow that runs the Reason-Act-Verify loop: call the model, run the tools it
// asks for as steps, check the answer, repeat until it answers or a limit stops it.
import { InvalidArgumentError } from "../core/errors.js";
import type { WorkflowContext } from "../core/types.js";
import type { RunUsage } from "../core/usage.js";
import { workflow, type Workflow } from "../core/workflow.js";
import { agentInputSchema, type AgentInput } from "./agent-input.js";
import { runAgentLoop } from "./agent-loop.js";
import { checkBudget, type Budget } from "./budget.js";
import { checkModel } from "./check-request.js";
import type { ContextStrategy } from "./context.js";
import { AGENT_TOOLS_MAX, AGENT_TURNS_DEFAULT, AGENT_TURNS_MAX } from "./limits.js";
import type { Model } from "./model.js";
import { checkTools, type Tools } from "./tool.js";

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

/**
 * Defines an agent: a workflow whose every model call and tool call is a durable step.
 * Start it like any workflow, with `{ prompt }` or `{ messages }`.
 *
 * @example
 * ```ts
 * const scout = agent("lead-scout", {
 *   model: openaiCompatible({ baseURL: process.env.OPENAI_BASE_URL, apiKey, model: "gpt-4.1-mini" }),
 *   system: "You research leads.",
 *   tools: { search },
 *   maxTurns: 20,
 *   budget: { tokens: 200_000 },
 * });
 * const run = await engine.start(scout, { prompt: "Find three vector-database leads" });
 * console.log((await run.result()).text);
 * ```
 */
export function agent(name: string, options: AgentOptions): Workflow<AgentInput, AgentResult> {
  const spec = checkOptions(name, options);
  return workflow(name, (ctx, input: AgentInput) => runAgentLoop(ctx, spec, input), {
    input: agentInputSchema,
    ...(options.version === undefined ? {} : { version: options.version }),
  });
}

function checkOptions(name: string, options: AgentOptions): AgentSpec {
  const what = `agent '${name}'`;
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`${what} needs options with at least a model`);
  }
  checkModel(options.model, what);
  const maxTurns = options.maxTurns ?? AGENT_TURNS_DEFAULT;
  if (!Number.isInteger(maxTurns) || maxTurns < 1 || maxTurns > AGENT_TURNS_MAX) {
    throw new InvalidArgumentError(
      `${what}: maxTurns must be a whole number from 1 to ${AGENT_TURNS_MAX}, got ${String(maxTurns)}`,
    );
  }
  if (options.system !== undefined && typeof options.system !== "string") {
    throw new InvalidArgumentError(`${what}: system must be a string`);
  }
  if (options.tools !== undefined && typeof options.tools !== "function") {
    checkTools(options.tools, AGENT_TOOLS_MAX, what);
  }
  if (options.budget !== undefined) checkBudget(options.budget, options.model, what);
  if (options.context !== undefined && options.context.kind !== "endure.context") {
    throw new InvalidArgumentError(
      `${what}: context must be fullHistory(), lastTurns(...) or a ContextStrategy`,
    );
  }
  if (options.verify !== undefined && typeof options.verify !== "function") {
    throw new InvalidArgumentError(`${what}: verify must be a function of the answer`);
  }
  return { ...options, name, maxTurns, stream: options.stream ?? true };
}
