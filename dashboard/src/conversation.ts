// Turns an agent run's output stream (parts of the AI SDK's UI message stream) into the
// conversation it is: assistant text, tool calls with their input and result, approvals
// asked for, errors, and custom data parts. A pure fold: feed parts in order, read items.

/** One part of the output stream. */
export interface Part {
  readonly type: string;
  readonly [key: string]: unknown;
}

export type Item =
  | { kind: "text"; id: string; text: string; done: boolean }
  | {
      kind: "tool";
      toolCallId: string;
      toolName: string;
      input: unknown;
      output: unknown;
      state: "calling" | "done" | "failed" | "denied";
    }
  | { kind: "approval"; approvalId: string; toolCallId: string }
  | { kind: "error"; text: string }
  | { kind: "step"; n: number }
  | { kind: "data"; type: string; data: unknown };

/** The conversation so far, and the items by id for the parts that extend them. */
export interface Conversation {
  readonly items: Item[];
  readonly finished: boolean;
}

/** An empty conversation. */
export function emptyConversation(): Conversation {
  return { items: [], finished: false };
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The conversation after `part` (a new object; the old one is left as it was). */
export function addPart(conv: Conversation, part: Part): Conversation {
  const items = conv.items.slice();
  const findText = (id: string): number =>
    items.findLastIndex((i) => i.kind === "text" && i.id === id);
  const findTool = (id: string): number =>
    items.findLastIndex((i) => i.kind === "tool" && i.toolCallId === id);
  const updateTool = (id: string, change: Partial<Extract<Item, { kind: "tool" }>>): void => {
    const at = findTool(id);
    const tool = items[at];
    if (tool?.kind === "tool") items[at] = { ...tool, ...change };
  };
  switch (part.type) {
    case "start-step":
      items.push({ kind: "step", n: items.filter((i) => i.kind === "step").length + 1 });
      break;
    case "text-start":
      items.push({ kind: "text", id: str(part.id), text: "", done: false });
      break;
    case "text-delta": {
      const at = findText(str(part.id));
      const text = items[at];
      if (text?.kind === "text") items[at] = { ...text, text: text.text + str(part.delta) };
      else items.push({ kind: "text", id: str(part.id), text: str(part.delta), done: false });
      break;
    }
    case "text-end": {
      const at = findText(str(part.id));
      const text = items[at];
      if (text?.kind === "text") items[at] = { ...text, done: true };
      break;
    }
    case "tool-input-start":
    case "tool-input-available": {
      const id = str(part.toolCallId);
      if (findTool(id) >= 0) updateTool(id, { input: part.input });
      else
        items.push({
          kind: "tool",
          toolCallId: id,
          toolName: str(part.toolName),
          input: part.input,
          output: undefined,
          state: "calling",
        });
      break;
    }
    case "tool-output-available":
      updateTool(str(part.toolCallId), { output: part.output, state: "done" });
      break;
    case "tool-output-error":
      updateTool(str(part.toolCallId), { output: part.errorText, state: "failed" });
      break;
    case "tool-output-denied":
      updateTool(str(part.toolCallId), { state: "denied" });
      break;
    case "tool-approval-request":
      items.push({
        kind: "approval",
        approvalId: str(part.approvalId),
        toolCallId: str(part.toolCallId),
      });
      break;
    case "error":
      items.push({ kind: "error", text: str(part.errorText) });
      break;
    case "finish":
      return { items, finished: true };
    default:
      if (part.type.startsWith("data-") && part.type !== "data-tool-progress")
        items.push({ kind: "data", type: part.type, data: part.data });
  }
  return { items, finished: conv.finished };
}
