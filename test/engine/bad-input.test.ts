// Proves every bad input gets a typed error that says what to do, and loses nothing already
// committed: unknown and duplicate workflows, schema failures, unserializable and oversized
// values, and every limit at its edge.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createEngine, isEndureError, limits, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { join } from "node:path";
import { sqliteEngine, tempDir } from "../helpers.js";

const caught = async (
  p: Promise<unknown> | (() => unknown),
): Promise<Error & { code?: string }> => {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a rejection");
};

describe("bad input", () => {
  it("refuses an unknown workflow name, listing the registered ones", async () => {
    const known = workflow("known", async () => 1);
    const stranger = workflow("stranger", async () => 1);
    const engine = await sqliteEngine({ workflows: [known] });
    const byName = await caught(engine.start("nope", undefined));
    expect(byName.code).toBe("workflow_not_found");
    expect(byName.message).toContain(
      "no workflow 'nope' is registered on this engine (registered: 'known')",
    );
    expect((await caught(engine.start(stranger, undefined))).code).toBe("workflow_not_found");
    expect((await engine.listRuns()).runs).toHaveLength(0);
  });

  it("refuses two workflows under one name", async () => {
    const error = await caught(() =>
      createEngine({
        store: sqliteStore(join(tempDir(), "dup.db")),
        workflows: [workflow("twin", async () => 1), workflow("twin", async () => 2)],
      }),
    );
    expect(error.code).toBe("workflow_duplicate");
    expect(error.message).toContain("'twin'");
  });

  it("refuses input that fails its schema and stores nothing", async () => {
    const wf = workflow("typed", async (_ctx, input: { email: string }) => input.email, {
      input: z.object({ email: z.string().email() }),
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const error = await caught(engine.start(wf, { email: "not-an-email" }, { id: "t1" }));
    expect(error.code).toBe("input_invalid");
    expect(error.message).toMatch(
      /input of workflow 'typed' fails its schema: email: .*nothing was started/,
    );
    expect(await engine.getRun("t1")).toBeNull();
    expect(await (await engine.start(wf, { email: "a@b.co" })).result()).toBe("a@b.co");
  });

  it("fails a run whose output fails its schema", async () => {
    const wf = workflow("shaped", async () => ({ score: 101 }), {
      output: z.object({ score: z.number().max(100) }),
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const error = await caught((await engine.start(wf, undefined)).result());
    expect(error.code).toBe("output_invalid");
    expect(error.message).toContain("score");
  });

  it("refuses input that cannot be serialized, naming where", async () => {
    const wf = workflow("fn-input", async () => 1);
    const engine = await sqliteEngine({ workflows: [wf] });
    const error = await caught(engine.start(wf, { callback: () => 1 }));
    expect(error.code).toBe("value_not_serializable");
    expect(error.message).toContain(
      "input of workflow 'fn-input' cannot be journaled: a function (callback) at $.callback",
    );
  });

  it("fails a step whose result cannot be serialized, keeping the steps before it", async () => {
    class Connection {}
    const wf = workflow("leaky", async (ctx) => {
      await ctx.step("ok", () => "kept");
      return ctx.step("conn", () => new Connection(), { retries: 3 });
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    const error = await caught(run.result());
    expect(error.code).toBe("value_not_serializable");
    expect(error.message).toContain(
      "step 'conn#1' result cannot be journaled: an instance of class Connection",
    );
    const journal = await engine.journal(run.id);
    expect(
      journal.filter((e) => e.type === "step_attempt_started" && e.key === "conn#1"),
    ).toHaveLength(1);
    expect(journal.find((e) => e.type === "step_succeeded")?.data).toEqual({
      attempt: 1,
      result: "kept",
    });
  });

  it("refuses a step result one byte over the payload limit, and warns above the warning size", async () => {
    const warnings: string[] = [];
    const wf = workflow("big", async (ctx, input: { size: number }) =>
      ctx.step("blob", () => "x".repeat(input.size), { retries: 0 }),
    );
    const engine = await sqliteEngine({
      workflows: [wf],
      limits: { payloadBytesMax: 1_002, payloadBytesWarn: 500 },
      logger: { warn: (m) => warnings.push(m) },
    });
    // A string of n characters serializes to n + 2 bytes (its quotes).
    expect(await (await engine.start(wf, { size: 1_000 })).result()).toHaveLength(1_000);
    expect(
      warnings.some((w) => w.includes("step 'blob#1' result") && w.includes("1002 bytes")),
    ).toBe(true);
    const error = await caught((await engine.start(wf, { size: 1_001 })).result());
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain(
      "step 'blob#1' result is 1003 bytes serialized, over the limit of 1002 bytes",
    );
  });

  it("checks names, ids and retries at their limits", async () => {
    const long = "n".repeat(limits.NAME_LENGTH_MAX);
    expect(() => workflow(long, async () => 1)).not.toThrow();
    expect(() => workflow(`${long}n`, async () => 1)).toThrow(
      /201 characters long; the limit is 200/,
    );
    expect(() => workflow("a#b", async () => 1)).toThrow(/must not contain '#'/);
    const wf = workflow("retries", async (ctx, input: { retries: number }) =>
      ctx.step("s", () => 1, { retries: input.retries }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, { retries: limits.STEP_RETRIES_MAX })).result()).toBe(1);
    const tooMany = await caught(
      (await engine.start(wf, { retries: limits.STEP_RETRIES_MAX + 1 })).result(),
    );
    expect(tooMany.message).toContain("retries must be a whole number from 0 to 1000, got 1001");
    const id = "i".repeat(limits.RUN_ID_LENGTH_MAX);
    expect((await engine.start(wf, { retries: 0 }, { id })).id).toBe(id);
    expect((await caught(engine.start(wf, { retries: 0 }, { id: `${id}i` }))).code).toBe(
      "invalid_argument",
    );
  });

  it("refuses to start on a closed engine", async () => {
    const wf = workflow("closed", async () => 1);
    const engine = await sqliteEngine({ workflows: [wf] });
    await engine.close();
    expect(isEndureError(await caught(engine.start(wf, undefined)), "engine_closed")).toBe(true);
  });
});
