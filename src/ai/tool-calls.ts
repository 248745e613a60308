// Executing the tool calls of one model reply: each valid call is a step with the tool's own
// retries, timeout and verification; an unknown tool, malformed JSON or invalid arguments
// are answered to the model as tool errors and journaled, never crash the run.
import { isEndureError } from "../core/errors.js";
import type { StreamPart } from "../core/stream.js";
import type { ApprovalResult, WorkflowContext } from "../core/types.js";
import { ERROR_TEXT_CHARS_MAX, TOOL_RESULT_CHARS_MAX } from "./limits.js";
import type { ToolCall, ToolMessage } from "./messages.js";
import type { Tool, ToolApprovalRules, Tools } from "./tool.js";

/** What a stream part shows in place of arguments over the part size limit. */
const TOO_LARGE_TO_SHOW = "[too large to show here: see the journal]";

type Prepared =
  | { readonly ok: true; readonly tool: Tool; readonly input: unknown }
  | { readonly ok: false; readonly error: string; readonly input: unknown };

/** Runs the calls concurrently, as steps, and answers each; results keep the calls' order. */
export async function runToolCalls(
  ctx: WorkflowContext,
  tools: Tools,
  calls: readonly ToolCall[],
): Promise<ToolMessage[]> {
  const prepared = await Promise.all(calls.map((c) => prepare(tools, c)));
  prepared.forEach((p, i) => {
    const call = calls[i] as ToolCall;
    const part = { toolCallId: call.id, toolName: call.name, input: p.input };
    const shortened = { ...part, input: TOO_LARGE_TO_SHOW };
    if (p.ok) {
      emitSafely(
        ctx,
        { type: "tool-input-available", ...part },
        { type: "tool-input-available", ...shortened },
      );
    } else {
      emitSafely(
        ctx,
        { type: "tool-input-error", ...part, errorText: p.error },
        { type: "tool-input-error", ...shortened, errorText: p.error },
      );
    }
  });
  return Promise.all(prepared.map((p, i) => answer(ctx, calls[i] as ToolCall, p)));
}

async function prepare(tools: Tools, call: ToolCall): Promise<Prepared> {
  const tool = Object.hasOwn(tools, call.name) ? tools[call.name] : undefined;
  if (tool === undefined) {
    const names = Object.keys(tools).join(", ") || "none";
    return {
      ok: false,
      input: call.arguments,
      error: `there is no tool named '${call.name}'; the tools are: ${names}`,
    };
  }
  let input: unknown;
  try {
    input = JSON.parse(call.arguments.trim() === "" ? "{}" : call.arguments);
  } catch (e) {
    return {
      ok: false,
      input: call.arguments,
      error: `the arguments of tool '${call.name}' are not valid JSON (${(e as Error).message}); send one JSON object that matches its input schema`,
    };
  }
  const checked = await tool.check(input);
  if (!checked.ok) {
    return {
      ok: false,
      input,
      error: `the arguments of tool '${call.name}' do not match its input schema: ${checked.issues}`,
    };
  }
  return { ok: true, tool, input: checked.value };
}

async function answer(ctx: WorkflowContext, call: ToolCall, p: Prepared): Promise<ToolMessage> {
  const base = { role: "tool" as const, toolCallId: call.id, name: call.name };
  if (!p.ok) {
    // Journaled as a step of its own, so the journal says what was refused and why.
    const error = await ctx.step("reject tool call", () => `Error: ${p.error}`);
    return { ...base, content: error, isError: true };
  }
  const refusal = await approvalGate(ctx, call, p.tool, p.input);
  if (refusal !== null) return { ...base, content: refusal, isError: true };
  let result: unknown;
  try {
    const durable = p.tool.durable;
    result =
      durable !== undefined
        ? await durable(p.input, ctx, call.id)
        : await ctx.step(
            `tool ${call.name}`,
            (step) =>
              p.tool.run(p.input, {
                idempotencyKey: step.idempotencyKey,
                attempt: step.attempt,
                signal: step.signal,
                runId: step.runId,
                toolCallId: call.id,
                emit: step.emit,
                progress: (data) => step.emit({ type: "data-tool-progress", id: call.id, data }),
              }),
            stepOptions(p.tool, p.input),
          );
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const text = `Error: tool '${call.name}' failed: ${clip(message, ERROR_TEXT_CHARS_MAX)}`;
    emitSafely(ctx, { type: "tool-output-error", toolCallId: call.id, errorText: text });
    return { ...base, content: text, isError: true };
  }
  const content = clip(modelOutput(p.tool, result), TOOL_RESULT_CHARS_MAX);
  emitSafely(
    ctx,
    { type: "tool-output-available", toolCallId: call.id, output: result },
    {
      type: "tool-output-available",
      toolCallId: call.id,
      output: content,
    },
  );
  return { ...base, content };
}

/** The name of a tool call's approval: the tool and the model's call id, unique in the run. */
export function approvalName(call: ToolCall): string {
  return `${call.name} ${call.id}`.replace(/#/g, "_").slice(0, 200);
}

/** Asks a person when the tool wants it: null to go ahead, else what to tell the model. */
async function approvalGate(
  ctx: WorkflowContext,
  call: ToolCall,
  tool: Tool,
  input: unknown,
): Promise<string | null> {
  const approval = tool.approval;
  if (approval === undefined || approval === false) return null;
  let rules: ToolApprovalRules = {};
  let title = `Allow tool '${call.name}' to run?`;
  if (typeof approval === "function") {
    if (!(await approval(input))) return null;
  } else if (typeof approval === "object") {
    const { when, title: asked, ...rest } = approval;
    if (when !== undefined && !(await when(input))) return null;
    rules = rest;
    if (asked !== undefined) title = typeof asked === "function" ? asked(input) : asked;
  }
  const name = approvalName(call);
  ctx.emit({ type: "tool-approval-request", approvalId: name, toolCallId: call.id });
  const decision = await ctx.approval(name, {
    ...rules,
    title,
    details: { tool: call.name, toolCallId: call.id, input },
  });
  if (decision.approved) return null;
  ctx.emit({ type: "tool-output-denied", toolCallId: call.id });
  return `Error: the call of tool '${call.name}' was not run: ${refusalText(decision)}`;
}

function refusalText(decision: ApprovalResult): string {
  if (decision.outcome === "timed_out") return "no one decided before its approval timed out.";
  if (decision.outcome === "resolved")
    return "its approval was resolved as rejected by its policy.";
  const comment = decision.comment === null ? " (no comment)" : `: ${decision.comment}`;
  return `${decision.by ?? "a reviewer"} rejected it${comment}`;
}

function stepOptions(tool: Tool, input: unknown) {
  const verify = tool.verify;
  return {
    ...(tool.retries === undefined ? {} : { retries: tool.retries }),
    ...(tool.backoff === undefined ? {} : { backoff: tool.backoff }),
    ...(tool.timeout === undefined ? {} : { timeout: tool.timeout }),
    ...(verify === undefined ? {} : { verify: (result: unknown) => verify(result, input) }),
  };
}

function modelOutput(tool: Tool, result: unknown): string {
  if (tool.toModelOutput !== undefined) return tool.toModelOutput(result);
  if (typeof result === "string") return result;
  return JSON.stringify(result) ?? "null";
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[cut: the result has ${text.length} characters; the first ${max} are shown]`;
}

/** Emits `part`, or `fallback` when `part` is over the stream's size limit. */
export function emitSafely(ctx: WorkflowContext, part: StreamPart, fallback?: StreamPart): void {
  try {
    ctx.emit(part);
  } catch (e) {
    if (fallback === undefined || !isEndureError(e, "payload_too_large")) throw e;
    ctx.emit(fallback);
  }
}
