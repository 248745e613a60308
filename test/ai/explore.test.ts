// Proves an agent's loop is deterministic between its steps, with endure/testing's crash
// exploration: an agent with tools, an approval-gated call, a verify check and a lastTurns
// summary is recovered from every prefix of its journal and ends the same way each time.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { exploreCrashes } from "endure/testing";
import { agent, lastTurns, scriptedModel, tool } from "endure/ai";

describe("agents under crash exploration", () => {
  it("recovers from every journal prefix to the same answer", async () => {
    // Three turns of tools, then an answer that verify refuses once, then one it accepts.
    const model = scriptedModel((request) => {
      const turn = request.messages.filter((m) => m.role === "assistant").length;
      const summarized = request.messages.some((m) => m.content.startsWith("Summary of"));
      if (!summarized && turn < 3) {
        return {
          toolCalls: [
            { name: "add", input: { a: turn, b: 1 } },
            { name: "pay", input: { cents: 100 * turn } },
          ],
        };
      }
      const refused = request.messages.at(-1)?.content.startsWith("Your answer was not accepted");
      return refused === true ? "42" : "forty-two";
    });
    const summarizer = scriptedModel(() => "earlier: additions and payments");
    const add = tool({
      description: "Add",
      input: z.object({ a: z.number(), b: z.number() }),
      run: ({ a, b }) => a + b,
    });
    const pay = tool({
      description: "Pay",
      input: z.object({ cents: z.number() }),
      approval: ({ cents }) => cents > 100,
      run: ({ cents }, { idempotencyKey }) => `paid ${cents} (${idempotencyKey})`,
    });
    const a = agent("explored", {
      model,
      tools: { add, pay },
      maxTurns: 10,
      verify: (answer) => /^\d+$/.test(answer) || "digits only",
      context: lastTurns(2, { model: summarizer }),
    });
    const result = await exploreCrashes(a, { prompt: "go" }, { answer: () => true });
    expect(result.outcome).toBe("completed");
    expect(result.output).toMatchObject({ text: "42" });
    expect(result.recoveries).toBeGreaterThan(20);
  });
});
