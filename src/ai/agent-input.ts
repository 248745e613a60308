// Deterministic: the input an agent run starts with, checked as a Standard Schema so that a
// bad start is refused by engine.start before anything is stored.
import type { StandardSchemaV1 } from "../core/schema.js";
import type { Message } from "./messages.js";

/** What an agent run is asked: a prompt, or a conversation to continue. */
export type AgentInput = { readonly prompt: string } | { readonly messages: readonly Message[] };

/** The agent input schema: a non-empty prompt, or messages ending with a user message. */
export const agentInputSchema: StandardSchemaV1<unknown, AgentInput> = {
  "~standard": {
    version: 1,
    vendor: "endure",
    validate(value) {
      const issue = problemOf(value);
      return issue === null ? { value: value as AgentInput } : { issues: [{ message: issue }] };
    },
  },
};

function problemOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null) {
    return 'an agent needs { prompt: "..." } or { messages: [...] }';
  }
  const v = value as { prompt?: unknown; messages?: unknown };
  if (v.prompt !== undefined) {
    if (typeof v.prompt !== "string" || v.prompt.trim() === "")
      return "prompt must be a non-empty string";
    return null;
  }
  if (!Array.isArray(v.messages) || v.messages.length === 0) {
    return "an agent needs a non-empty prompt or a non-empty messages array";
  }
  for (const [i, m] of (v.messages as unknown[]).entries()) {
    const msg = m as { role?: unknown; content?: unknown };
    if (
      !["user", "assistant", "tool"].includes(String(msg?.role)) ||
      typeof msg.content !== "string"
    )
      return `messages[${i}] needs a role of user, assistant or tool and string content`;
  }
  return null;
}

/** The conversation a run starts from. */
export function initialMessages(input: AgentInput): Message[] {
  return "prompt" in input ? [{ role: "user", content: input.prompt }] : [...input.messages];
}
