// Proves engine.journal gives errors as plain data on real SQLite: a failed step's error (a
// plain Error with a field of its own, and an endure error) survives JSON.stringify with its
// name, code, message and fields, instead of becoming {}.
import { describe, expect, it } from "vitest";
import { NonRetriableError, workflow } from "endure";
import { sqliteEngine } from "../helpers.js";

class QuotaError extends Error {
  override name = "QuotaError";
  readonly status = 429;
}

describe("journal records as JSON", () => {
  it("keep their errors' name, code, message and fields", async () => {
    const wf = workflow("quota", async (ctx) => {
      await ctx
        .step("search", () => {
          throw new QuotaError("over quota");
        })
        .catch(() => null);
      return ctx.step("charge", () => {
        throw new NonRetriableError("card expired");
      });
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined, { id: "q" });
    await run.result().catch(() => null);
    const records = JSON.parse(JSON.stringify(await engine.journal(run.id))) as Array<{
      type: string;
      key: string | null;
      data: { error?: Record<string, unknown> } | null;
    }>;
    const failure = records.find((r) => r.type === "step_attempt_failed" && r.key === "search#1");
    expect(failure?.data?.error).toMatchObject({
      name: "QuotaError",
      message: "over quota",
      props: { status: 429 },
    });
    const failed = records.find((r) => r.type === "run_failed");
    expect(failed?.data?.error).toMatchObject({
      name: "NonRetriableError",
      code: "non_retriable",
      message: "card expired",
    });
  });
});
