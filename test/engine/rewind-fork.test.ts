// Rewind and fork. A rewind re-opens an ended run from a chosen step after a bug fix: the
// steps before it are answered from the journal (their bodies are counted and do not run
// again), the journal keeps what happened and marks what is superseded. A fork starts a new
// run that shares the journal up to a step, here with a model's answer edited, and goes its
// own way while its parent stays as it was.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, isEndureError, workflow, type Engine, type Workflow } from "endure";
import { llm, scriptedModel, type ModelResponse } from "endure/ai";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";

const bodies: string[] = [];
const count = (name: string): number => bodies.filter((b) => b === name).length;

/** Three steps; `buggy` makes the last one fail, as the code did before a fix. */
function report(buggy: { value: boolean }): Workflow<{ id: string }, string> {
  return workflow("report", async (ctx, input: { id: string }) => {
    const data = await ctx.step("fetch", () => {
      bodies.push(`${input.id}:fetch`);
      return [1, 2, 3];
    });
    const total = await ctx.step("sum", () => {
      bodies.push(`${input.id}:sum`);
      return data.reduce((a, b) => a + b, 0);
    });
    return ctx.step(
      "summarize",
      () => {
        bodies.push(`${input.id}:summarize`);
        if (buggy.value) throw new Error("summarize is broken");
        return `total ${total}`;
      },
      { retries: 0 },
    );
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- workflows of any input
async function engineOn(path: string, wfs: Workflow<any, unknown>[]): Promise<Engine> {
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: wfs,
    logger: { warn: () => {} },
    gcSchedule: null,
    worker: { inMemoryWait: "0s", pollInterval: "20ms" },
  });
  onCleanup(() => engine.close());
  return engine;
}

const ended = (engine: Engine, id: string) =>
  eventually(async () => {
    const s = (await engine.getRun(id))?.status;
    return s === "completed" || s === "failed" || s === "cancelled";
  });

describe("rewind", () => {
  it("re-runs a failed run from the chosen step only, after the fix", async () => {
    const buggy = { value: true };
    const engine = await engineOn(join(tempDir(), "endure.db"), [report(buggy)]);
    const run = await engine.start("report", { id: "r1" }, { id: "r1" });
    await expect(run.result()).rejects.toThrow("summarize is broken");
    buggy.value = false; // the fix is deployed
    const info = await engine.rewind("r1", { toStep: "summarize", by: "maria@acme.io" });
    expect(info.status).toBe("pending");
    await ended(engine, "r1");
    expect(await engine.handle("r1").result()).toBe("total 6");
    expect([count("r1:fetch"), count("r1:sum"), count("r1:summarize")]).toEqual([1, 1, 2]);

    const journal = await engine.journal("r1");
    const rewound = journal.find((e) => e.type === "run_rewound");
    expect(rewound?.data).toEqual({ by: "maria@acme.io", step: "summarize#1", position: 3 });
    // What happened before is kept and marked: the failed attempt and the run's failure.
    const superseded = journal.filter((e) => e.superseded === true).map((e) => e.type);
    expect(superseded).toEqual(["step_attempt_started", "step_failed", "run_failed"]);
    expect(journal.filter((e) => e.key === "fetch#1" && e.superseded === true)).toEqual([]);
    expect(journal[journal.length - 1]?.type).toBe("run_completed");
  });

  it("re-opens a completed run from a middle step, by position or by key", async () => {
    const engine = await engineOn(join(tempDir(), "endure.db"), [report({ value: false })]);
    const run = await engine.start("report", { id: "r2" }, { id: "r2" });
    expect(await run.result()).toBe("total 6");
    await engine.rewind("r2", { toStep: 2 });
    await ended(engine, "r2");
    expect(await engine.handle("r2").result()).toBe("total 6");
    expect([count("r2:fetch"), count("r2:sum"), count("r2:summarize")]).toEqual([1, 2, 2]);
    // A second rewind goes on from the journal as the first one left it.
    await engine.rewind("r2", { toStep: "summarize#1" });
    await ended(engine, "r2");
    expect([count("r2:fetch"), count("r2:sum"), count("r2:summarize")]).toEqual([1, 2, 3]);
    const marks = (await engine.journal("r2")).filter((e) => e.type === "run_rewound");
    expect(marks.map((e) => e.data)).toEqual([
      { by: "request", step: "sum#1", position: 2 },
      { by: "request", step: "summarize#1", position: 3 },
    ]);
  });

  it("refuses a run still in flight; after a cancel it rewinds, an approval asked again", async () => {
    const approve = workflow("approve", async (ctx) => {
      await ctx.step("draft", () => bodies.push("a:draft"));
      const ok = await ctx.approval("publish", { title: "Publish?", timeout: "1h" });
      return ctx.step("publish", () => (ok.approved ? "published" : "dropped"));
    });
    const engine = await engineOn(join(tempDir(), "endure.db"), [approve]);
    await engine.start(approve, {}, { id: "a1" });
    await eventually(async () => (await engine.getRun("a1"))?.status === "waiting");
    const refused = await engine.rewind("a1", { toStep: "draft" }).catch((e: unknown) => e);
    expect(isEndureError(refused, "run_active")).toBe(true);
    expect((refused as Error).message).toContain("run a1 is waiting; only a run that ended");
    await engine.cancel("a1", "wrong draft");
    await ended(engine, "a1");
    expect((await engine.getRun("a1"))?.status).toBe("cancelled");
    const missing = await engine
      .rewind("a1", { toStep: "publish-not-there" })
      .catch((e: unknown) => e);
    expect(isEndureError(missing, "position_not_found")).toBe(true);
    expect((missing as Error).message).toContain("has no step 'publish-not-there#1'");
    // From the approval's position on: the approval is asked again and decided this time.
    await engine.rewind("a1", { toStep: 1 });
    await eventually(async () => (await engine.approvals({ runId: "a1" })).length === 1);
    await engine.approve("a1", "publish", { by: "ana" });
    expect(await engine.handle("a1").result()).toBe("published");
    expect(count("a:draft")).toBe(2);
  });
});

describe("fork", () => {
  it("with an edited model answer diverges from its parent, sharing the steps before", async () => {
    let modelCalls = 0;
    const model = scriptedModel(() => {
      modelCalls++;
      return "negative";
    });
    const triage = workflow("triage", async (ctx, input: { review: string }) => {
      const review = await ctx.step("fetch review", () => {
        bodies.push("t:fetch");
        return input.review;
      });
      const reply = await llm(ctx, "classify", model, {
        system: "Answer with one word: positive or negative.",
        messages: [{ role: "user", content: review }],
      });
      if (reply.text.trim() === "positive")
        return ctx.step("thank", () => `thanked for '${review}'`);
      return ctx.step("escalate", () => `escalated '${review}'`);
    });
    const engine = await engineOn(join(tempDir(), "endure.db"), [triage]);
    const parent = await engine.start(triage, { review: "great tool" }, { id: "t1" });
    expect(await parent.result()).toBe("escalated 'great tool'");

    const journal = await engine.journal("t1");
    const answer = journal.find((e) => e.type === "step_succeeded" && e.key === "classify#1")
      ?.data as { result: ModelResponse };
    const edited = { ...answer.result, text: "positive" };
    const fork = await engine.fork("t1", { atStep: "classify", output: edited, by: "dev@acme.io" });
    expect(fork.id).not.toBe("t1");
    expect(await engine.handle(fork.id).result()).toBe("thanked for 'great tool'");
    // The fork took the fetch and the model's (edited) answer from the journal it shares.
    expect(count("t:fetch")).toBe(1);
    expect(modelCalls).toBe(1);
    const forked = await engine.journal(fork.id);
    expect(forked.find((e) => e.type === "run_forked")?.data).toEqual({
      by: "dev@acme.io",
      from: "t1",
      step: "classify#1",
      position: 2,
      edited: true,
    });
    expect(forked.some((e) => e.key === "thank#1")).toBe(true);
    expect(forked.some((e) => e.key === "escalate#1")).toBe(false);
    // The parent is as it was.
    expect(await engine.handle("t1").result()).toBe("escalated 'great tool'");
    expect(await engine.journal("t1")).toEqual(journal);

    // Without an output, the fork shares the answer as it was and goes the parent's way.
    const same = await engine.fork("t1", { atStep: 2, id: "t1-again" });
    expect(same.id).toBe("t1-again");
    expect(await engine.handle("t1-again").result()).toBe("escalated 'great tool'");
    expect(modelCalls).toBe(1);
  });

  it("refuses a position that does not exist and an id that is taken", async () => {
    const engine = await engineOn(join(tempDir(), "endure.db"), [report({ value: false })]);
    await engine.start("report", { id: "f1" }, { id: "f1" }).then((r) => r.result());
    const missing = await engine.fork("f1", { atStep: 9 }).catch((e: unknown) => e);
    expect(isEndureError(missing, "position_not_found")).toBe(true);
    expect((missing as Error).message).toBe(
      "fork atStep: run f1 has no step at position 9 in its journal; its steps are fetch#1, sum#1, summarize#1",
    );
    const noRun = await engine.fork("nope", { atStep: 1 }).catch((e: unknown) => e);
    expect(isEndureError(noRun, "run_not_found")).toBe(true);
    const taken = await engine.fork("f1", { atStep: 1, id: "f1" }).catch((e: unknown) => e);
    expect(isEndureError(taken, "invalid_argument")).toBe(true);
    expect((taken as Error).message).toContain("fork id 'f1' is taken");
  });
});
