// The agent loop. Workflow code: deterministic between steps, so a replay walks the same
// turns and answers every model call and tool call from the journal.
import { ensureError, isEndureError } from "../core/errors.js";
import type { WorkflowContext } from "../core/types.js";
import { initialMessages, type AgentInput } from "./agent-input.js";
import type { AgentResult, AgentSpec } from "./agent-types.js";
import { calibrate, extended, planCall, type Calibration } from "./budget.js";
import { fullHistory } from "./context.js";
import { BudgetExceededError, EmptyReplyError, MaxTurnsExceededError } from "./errors.js";
import { AGENT_TOOLS_MAX, EMPTY_REPLIES_MAX } from "./limits.js";
import { llm, usageSoFar } from "./llm.js";
import type { Message, ModelRequest, ToolSpec } from "./messages.js";
import { runToolCalls } from "./tool-calls.js";
import { checkTools, type Tools } from "./tool.js";

/** What the model is told after an empty reply. */
export const EMPTY_REPLY_REMINDER =
  "Your last reply was empty. Answer the task, or call one of the tools.";

/** Runs the agent of `spec` on `input` in the run of `ctx`. */
export async function runAgentLoop(
  ctx: WorkflowContext,
  spec: AgentSpec,
  input: AgentInput,
): Promise<AgentResult> {
  ctx.emit({ type: "start", messageId: ctx.runId });
  try {
    return await loop(ctx, spec, input);
  } catch (e) {
    ctx.emit({ type: "error", errorText: ensureError(e).message });
    throw e;
  }
}

async function loop(
  ctx: WorkflowContext,
  spec: AgentSpec,
  input: AgentInput,
): Promise<AgentResult> {
  const tools = await loadTools(ctx, spec);
  const toolSpecs: ToolSpec[] = Object.entries(tools).map(([name, t]) => ({
    name,
    description: t.description,
    inputSchema: t.inputSchema,
  }));
  const history: Message[] = initialMessages(input);
  const calibration: Calibration = { ratio: 1 };
  let turn = 0;
  let extensions = 0;
  const guard = async (request: ModelRequest): Promise<ModelRequest> => {
    const budget = spec.budget;
    if (budget === undefined) return request;
    for (;;) {
      const who = `agent '${spec.name}' (turn ${turn})`;
      const limit = extended(budget, extensions);
      try {
        return planCall(limit, usageSoFar(ctx), request, spec.model, calibration, who);
      } catch (e) {
        if (!isEndureError(e, "budget_exceeded") || budget.onExceeded !== "approve") throw e;
        await allowMore(ctx, spec, extensions, (e as Error).message);
        extensions++;
      }
    }
  };
  const context = (spec.context ?? fullHistory()).start({ ctx, guard });
  let empties = 0;
  let toolCalls = 0;
  for (turn = 1; turn <= spec.maxTurns; turn++) {
    const request = await guard({
      ...(spec.system === undefined ? {} : { system: spec.system }),
      messages: await context.build(history),
      ...(toolSpecs.length === 0 ? {} : { tools: toolSpecs }),
      ...(spec.maxOutputTokens === undefined ? {} : { maxOutputTokens: spec.maxOutputTokens }),
      ...(spec.temperature === undefined ? {} : { temperature: spec.temperature }),
    });
    ctx.emit({ type: "start-step" });
    const reply = await llm(ctx, "model", spec.model, request, { stream: spec.stream });
    calibrate(calibration, request, reply.usage.inputTokens);
    if (!spec.stream && reply.text !== "") emitText(ctx, `model#${turn}`, reply.text);
    history.push({
      role: "assistant",
      content: reply.text,
      ...(reply.toolCalls.length === 0 ? {} : { toolCalls: reply.toolCalls }),
    });
    if (reply.toolCalls.length > 0) {
      empties = 0;
      toolCalls += reply.toolCalls.length;
      history.push(...(await runToolCalls(ctx, tools, reply.toolCalls)));
      ctx.emit({ type: "finish-step" });
      continue;
    }
    ctx.emit({ type: "finish-step" });
    if (reply.text.trim() === "") {
      if (++empties > EMPTY_REPLIES_MAX) {
        throw new EmptyReplyError(
          `agent '${spec.name}': the model answered with nothing (no text, no tool call) ${empties} times in a row, at turn ${turn}; check the model and the prompt`,
        );
      }
      history.push({
        role: "user",
        content: await ctx.step("remind empty reply", () => EMPTY_REPLY_REMINDER),
      });
      continue;
    }
    empties = 0;
    const refusal = await checkAnswer(ctx, spec, reply.text);
    if (refusal !== null) {
      history.push({ role: "user", content: refusal });
      continue;
    }
    ctx.emit({ type: "finish", finishReason: "stop" });
    return { text: reply.text, turns: turn, toolCalls, usage: usageSoFar(ctx) };
  }
  throw new MaxTurnsExceededError(
    `agent '${spec.name}' used its ${spec.maxTurns} turns without a final answer` +
      (toolCalls > 0 ? ` (the model was still calling tools)` : "") +
      "; raise maxTurns, or give it a task it can finish",
  );
}

/** Asks a person for another budget's worth; throws, saying who and why, unless approved. */
async function allowMore(
  ctx: WorkflowContext,
  spec: AgentSpec,
  extensions: number,
  reason: string,
): Promise<void> {
  const budget = spec.budget ?? {};
  const size = [
    budget.tokens === undefined ? null : `${budget.tokens} tokens`,
    budget.usd === undefined ? null : `$${budget.usd}`,
  ]
    .filter((s) => s !== null)
    .join(" and ");
  const decision = await ctx.approval(`budget ${extensions + 1}`, {
    ...(budget.approval ?? {}),
    title: `Agent '${spec.name}' reached its budget; allow another ${size}?`,
    details: { reason, spent: usageSoFar(ctx), limit: extended(budget, extensions) },
  });
  if (decision.approved) return;
  const by =
    decision.outcome === "rejected"
      ? `${decision.by ?? "a reviewer"} declined to extend it${decision.comment === null ? "" : `: ${decision.comment}`}`
      : "no one extended it in time";
  throw new BudgetExceededError(`${reason}; ${by}`);
}

async function loadTools(ctx: WorkflowContext, spec: AgentSpec): Promise<Tools> {
  if (spec.tools === undefined) return {};
  if (typeof spec.tools !== "function") return spec.tools;
  const tools = await spec.tools(ctx);
  checkTools(tools, AGENT_TOOLS_MAX, `agent '${spec.name}'`);
  return tools;
}

/** Reason-Act-Verify at the end: null when the answer passes, else what to tell the model. */
async function checkAnswer(
  ctx: WorkflowContext,
  spec: AgentSpec,
  answer: string,
): Promise<string | null> {
  const check = spec.verify;
  if (check === undefined) return null;
  const verdict = await ctx.step("verify answer", async () => {
    const v = await check(answer);
    return v === undefined || v === true ? true : v === false ? "it did not pass verification" : v;
  });
  if (verdict === true) return null;
  ctx.emit({ type: "data-endure-verification", data: { accepted: false, reason: verdict } });
  return `Your answer was not accepted: ${verdict}. Work on it, then answer again.`;
}

function emitText(ctx: WorkflowContext, id: string, text: string): void {
  ctx.emit({ type: "text-start", id });
  ctx.emit({ type: "text-delta", id, delta: text });
  ctx.emit({ type: "text-end", id });
}
