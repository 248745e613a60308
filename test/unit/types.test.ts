// Proves the public API infers what it promises. The assertions are checked by the type
// checker (npm run typecheck compiles this file); @ts-expect-error lines must stay errors.
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  workflow,
  type Engine,
  type RunHandle,
  type StepContext,
  type TransactionalStepContext,
} from "endure";
import { agent, llm, scriptedModel, tool, type AgentResult, type ModelResponse } from "endure/ai";

describe("public types", () => {
  it("infers a workflow's input from its schema and its output from its function", () => {
    const wf = workflow(
      "typed",
      async (ctx, input) => {
        expectTypeOf(input).toEqualTypeOf<{ email: string; seats: number }>();
        const n = await ctx.step("count", () => input.seats * 2);
        expectTypeOf(n).toEqualTypeOf<number>();
        return { ok: true as const, n };
      },
      { input: z.object({ email: z.string(), seats: z.number() }) },
    );
    type Start = Engine["start"];
    expectTypeOf<Parameters<Start>>().toMatchTypeOf<[unknown, unknown, ...unknown[]]>();
    const start = (engine: Engine) => engine.start(wf, { email: "a@b.co", seats: 2 });
    expectTypeOf(start).returns.resolves.toEqualTypeOf<RunHandle<{ ok: true; n: number }>>();
    // @ts-expect-error -- the input must match the schema's type
    const wrong = (engine: Engine) => engine.start(wf, { email: 42 });
    void wrong;
  });

  it("gives transactional bodies a transaction and others a plain step context", () => {
    workflow("tx", async (ctx) => {
      await ctx.step("plain", (s) => {
        expectTypeOf(s).toEqualTypeOf<StepContext>();
        expectTypeOf(s.signal).toEqualTypeOf<AbortSignal>();
      });
      await ctx.step(
        "ledger",
        (s) => {
          expectTypeOf(s).toEqualTypeOf<TransactionalStepContext>();
          expectTypeOf(s.tx.dialect).toEqualTypeOf<"sqlite" | "postgres">();
        },
        { transactional: true },
      );
      // @ts-expect-error -- verify checks the step's own result type
      await ctx.step("v", () => 1, { verify: (r: string) => r.length > 0 });
      return null;
    });
  });

  it("types tool inputs from their schema, agents as workflows, and llm's response", () => {
    const search = tool({
      description: "Search",
      input: z.object({ q: z.string(), limit: z.number().optional() }),
      run: (input, { idempotencyKey }) => {
        expectTypeOf(input).toEqualTypeOf<{ q: string; limit?: number | undefined }>();
        expectTypeOf(idempotencyKey).toEqualTypeOf<string>();
        return [input.q];
      },
      verify: (result) => {
        expectTypeOf(result).toEqualTypeOf<string[]>();
        return result.length > 0;
      },
    });
    const scout = agent("typed-agent", { model: scriptedModel(["x"]), tools: { search } });
    const start = (engine: Engine) => engine.start(scout, { prompt: "go" });
    expectTypeOf(start).returns.resolves.toEqualTypeOf<RunHandle<AgentResult>>();
    // @ts-expect-error -- an agent starts from a prompt or messages
    const wrong = (engine: Engine) => engine.start(scout, { question: "go" });
    void wrong;
    workflow("llm-typed", async (ctx) => {
      const reply = await llm(ctx, "ask", scriptedModel(["x"]), {
        messages: [{ role: "user", content: "hi" }],
      });
      expectTypeOf(reply).toEqualTypeOf<ModelResponse>();
      return reply.text;
    });
  });
});
