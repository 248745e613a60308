// The agent loop. Workflow code: deterministic between steps, so a replay walks the same
// turns and answers every model call and tool call from the journal.
import { ensureError } from "../core/errors.js";
import type { WorkflowContext } from "../core/types.js";
import { initialMessages, type AgentInput } from "./agent-input.js";
import type { AgentResult, AgentSpec } from "./agent-types.js";
import { calibrate, planCall, type Calibration } from "./budget.js";
import { fullHistory } from "./context.js";
import { EmptyReplyError, MaxTurnsExceededError } from "./errors.js";
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
  const guard = (request: ModelRequest): ModelRequest =>
    spec.budget === undefined
      ? request
      : planCall(
          spec.budget,
          usageSoFar(ctx),
          request,
          spec.model,
          calibration,
          `agent '${spec.name}' (turn ${turn})`,
        );
  const context = (spec.context ?? fullHistory()).start({ ctx, guard });
  let empties = 0;
  let toolCalls = 0;
  for (turn = 1; turn <= spec.maxTurns; turn++) {
    const request = guard({
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
