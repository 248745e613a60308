// agent(): a workflow that runs the Reason-Act-Verify loop: call the model, run the tools it
// asks for as steps, check the answer, repeat until it answers or a limit stops it.
import { InvalidArgumentError } from "../core/errors.js";
import { workflow, type A2AServing, type A2ASkill, type Workflow } from "../core/workflow.js";
import { agentInputSchema, type AgentInput } from "./agent-input.js";
import { runAgentLoop } from "./agent-loop.js";
import type { AgentOptions, AgentResult, AgentSpec } from "./agent-types.js";
import { checkBudget } from "./budget.js";
import { checkModel } from "./check-request.js";
import { AGENT_TOOLS_MAX, AGENT_TURNS_DEFAULT, AGENT_TURNS_MAX } from "./limits.js";
import { checkTools } from "./tool.js";

export type { AgentOptions, AgentResult, AnswerCheck } from "./agent-types.js";

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
    a2a: options.a2a === false ? false : a2aServing(name, options),
    ...(options.version === undefined ? {} : { version: options.version }),
  });
}

/** An agent's A2A card: its description, one skill for itself and one per static tool. */
function a2aServing(name: string, options: AgentOptions): A2AServing {
  const description = options.description ?? options.system ?? `The endure agent '${name}'`;
  const skills: A2ASkill[] = [{ id: name, name, description }];
  if (options.tools !== undefined && typeof options.tools !== "function") {
    for (const [tool, t] of Object.entries(options.tools))
      skills.push({ id: `${name}.${tool}`, name: tool, description: t.description });
  }
  return {
    description,
    skills,
    input: (message) => ({ prompt: message.text }),
  };
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
  if (options.description !== undefined && typeof options.description !== "string") {
    throw new InvalidArgumentError(`${what}: description must be a string`);
  }
  if (options.a2a !== undefined && typeof options.a2a !== "boolean") {
    throw new InvalidArgumentError(`${what}: a2a must be true or false`);
  }
  if (options.verify !== undefined && typeof options.verify !== "function") {
    throw new InvalidArgumentError(`${what}: verify must be a function of the answer`);
  }
  return { ...options, name, maxTurns, stream: options.stream ?? true };
}
