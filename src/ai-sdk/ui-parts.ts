// The run's output stream for AI SDK calls: a model call's output and its tools' results as
// UI message stream parts, emitted by workflow code (so each is written once).
import type { WorkflowContext } from "../core/types.js";
import type { SdkGenerateResult } from "./sdk-types.js";

const calls = new WeakMap<WorkflowContext, Map<string, number>>();

/** `name#n`: the n-th call of that name in the run, as its step key (the same on replay). */
export function nextCallId(ctx: WorkflowContext, name: string): string {
  let counts = calls.get(ctx);
  if (counts === undefined) calls.set(ctx, (counts = new Map<string, number>()));
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  return `${name}#${n}`;
}

/** Emits a generated result's text, reasoning and tool calls, framed as one step. */
export function emitGenerated(
  ctx: WorkflowContext,
  callId: string,
  content: SdkGenerateResult["content"],
): void {
  ctx.emit({ type: "start-step" });
  content.forEach((part, i) => {
    const id = `${callId}.${i}`;
    if (part.type === "text" && part.text !== "") {
      ctx.emit({ type: "text-start", id });
      ctx.emit({ type: "text-delta", id, delta: part.text });
      ctx.emit({ type: "text-end", id });
    } else if (part.type === "reasoning" && part.text !== "") {
      ctx.emit({ type: "reasoning-start", id });
      ctx.emit({ type: "reasoning-delta", id, delta: part.text });
      ctx.emit({ type: "reasoning-end", id });
    } else if (part.type === "tool-call") {
      ctx.emit({
        type: "tool-input-available",
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: parseInput(part.input),
      });
    }
  });
  ctx.emit({ type: "finish-step" });
}

/** A tool call's input as JSON, or the raw text when it is not JSON. */
export function parseInput(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
