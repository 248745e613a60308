// An agent on PostgreSQL: its model calls' usage adds up on the run's row, and its output
// stream reads back from any offset, as on SQLite.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { agent, scriptedModel, tool } from "endure/ai";
import { postgresEngine } from "../support/postgres.js";

describe("an agent on PostgreSQL", () => {
  it("sums usage per run and streams its parts in order, readable from any offset", async () => {
    const looked: string[] = [];
    const scout = agent("pg-scout", {
      model: scriptedModel(
        [
          {
            toolCalls: [{ name: "lookup", input: { q: "acme" } }],
            usage: { inputTokens: 120, outputTokens: 30 },
          },
          { text: "Acme is a lead.", usage: { inputTokens: 200, outputTokens: 7 } },
        ],
        { model: "priced", prices: { priced: { input: 1, output: 2 } } },
      ),
      tools: {
        lookup: tool({
          description: "Look a company up",
          input: z.object({ q: z.string() }),
          run: ({ q }) => {
            looked.push(q);
            return { q, found: true };
          },
        }),
      },
    });
    const engine = await postgresEngine({ workflows: [scout] });
    const run = await engine.start(scout, { prompt: "Find a lead" }, { id: "scout" });
    const result = await run.result();
    expect(result.text).toBe("Acme is a lead.");
    expect(looked).toEqual(["acme"]);

    const info = await engine.getRun("scout");
    expect(info?.usage.inputTokens).toBe(320);
    expect(info?.usage.outputTokens).toBe(37);
    expect(info?.usage.calls).toBe(2);
    // Prices are per million tokens: 320 in at $1, 37 out at $2.
    expect(info?.usage.costUsd).toBeCloseTo((320 * 1 + 37 * 2) / 1e6, 12);

    const all: Array<{ offset: number; type: string }> = [];
    for await (const { offset, part } of run.stream()) all.push({ offset, type: part.type });
    expect(all.length).toBeGreaterThan(2);
    expect(all.map((c) => c.offset)).toEqual(all.map((_, i) => i));
    const text = all.filter((c) => c.type === "text-delta");
    expect(text.length).toBeGreaterThan(0);
    const from = all[2]?.offset ?? 0;
    const later = await engine.readStream("scout", { from });
    expect(later.map((c) => c.offset)).toEqual(all.slice(from).map((c) => c.offset));
  });
});
