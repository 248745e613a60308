// Proves an agent's output stream folds into the conversation it is: text deltas joined per
// text part, tool calls matched with their results or refusals, approvals asked for, errors
// and data parts kept in order, and the end of the stream noticed.
import { describe, expect, it } from "vitest";
import { addPart, emptyConversation, type Part } from "../../dashboard/src/conversation.js";

const fold = (parts: Part[]) => parts.reduce(addPart, emptyConversation());

describe("addPart", () => {
  it("joins text deltas and pairs tool calls with their outputs", () => {
    const conv = fold([
      { type: "start", messageId: "r1" },
      { type: "start-step" },
      { type: "text-start", id: "t1" },
      { type: "text-delta", id: "t1", delta: "Let me " },
      { type: "text-delta", id: "t1", delta: "look." },
      { type: "text-end", id: "t1" },
      { type: "tool-input-available", toolCallId: "c1", toolName: "search", input: { q: "x" } },
      { type: "tool-approval-request", approvalId: "tool:send#1", toolCallId: "c2" },
      { type: "tool-input-available", toolCallId: "c2", toolName: "send", input: {} },
      { type: "tool-output-available", toolCallId: "c1", output: ["a"] },
      { type: "tool-output-denied", toolCallId: "c2" },
      { type: "data-endure-retry", data: { attempt: 2 } },
      { type: "error", errorText: "budget spent" },
    ]);
    expect(conv.finished).toBe(false);
    expect(conv.items).toEqual([
      { kind: "step", n: 1 },
      { kind: "text", id: "t1", text: "Let me look.", done: true },
      {
        kind: "tool",
        toolCallId: "c1",
        toolName: "search",
        input: { q: "x" },
        output: ["a"],
        state: "done",
      },
      { kind: "approval", approvalId: "tool:send#1", toolCallId: "c2" },
      {
        kind: "tool",
        toolCallId: "c2",
        toolName: "send",
        input: {},
        output: undefined,
        state: "denied",
      },
      { kind: "data", type: "data-endure-retry", data: { attempt: 2 } },
      { kind: "error", text: "budget spent" },
    ]);
  });

  it("notices the end of the stream and leaves the earlier conversation untouched", () => {
    const before = fold([{ type: "text-delta", id: "t", delta: "hi" }]);
    const after = addPart(before, { type: "finish", finishReason: "stop" });
    expect(after.finished).toBe(true);
    expect(before.finished).toBe(false);
    expect(after.items).toEqual([{ kind: "text", id: "t", text: "hi", done: false }]);
  });
});
