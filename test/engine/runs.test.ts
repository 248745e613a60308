// Proves the run API on real SQLite: idempotent start (a different input under the same id is
// refused unless onConflict asks for the existing run), getRun, listRuns, cancel (sleeping and
// mid-step), the determinism pause and its resumption once the code is fixed, and recovery.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isEndureError, workflow } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

describe("runs", () => {
  it("starts idempotently on id and reads runs back by id, workflow and status", async () => {
    const a = workflow("alpha", async (_ctx, input: { n: number }) => input.n * 2);
    const b = workflow("beta", async () => "b");
    const engine = await sqliteEngine({ workflows: [a, b] });
    const first = await engine.start(a, { n: 21 }, { id: "lead-42" });
    expect(first.created).toBe(true);
    expect(await first.result()).toBe(42);
    const again = await engine.start(a, { n: 21 }, { id: "lead-42" });
    expect(again.created).toBe(false);
    await expect(engine.start(a, { n: 1 }, { id: "lead-42" })).rejects.toMatchObject({
      code: "run_id_conflict",
      message: expect.stringContaining(
        "run 'lead-42' of workflow 'alpha' exists already with a different input",
      ) as unknown,
    });
    const second = await engine.start(a, { n: 1 }, { id: "lead-42", onConflict: "return" });
    expect(second.created).toBe(false);
    expect(await second.result()).toBe(42);
    await expect(
      engine.start(a, { n: 1 }, { id: "lead-42", onConflict: "replace" as "return" }),
    ).rejects.toMatchObject({ code: "invalid_argument" });
    await (await engine.start("beta", undefined)).result();
    const info = await engine.getRun("lead-42");
    expect(info).toMatchObject({
      id: "lead-42",
      workflow: "alpha",
      status: "completed",
      input: { n: 21 },
      output: 42,
    });
    expect(info?.endedAt).toBeInstanceOf(Date);
    expect(await engine.getRun("nope")).toBeNull();
    expect((await engine.listRuns({ workflow: "alpha" })).runs.map((r) => r.id)).toEqual([
      "lead-42",
    ]);
    expect((await engine.listRuns({ status: "completed" })).runs).toHaveLength(2);
    expect((await engine.listRuns({ status: "failed" })).runs).toHaveLength(0);
    const conflict = await engine.start(b, undefined, { id: "lead-42" }).catch((e: unknown) => e);
    expect(isEndureError(conflict, "run_id_conflict")).toBe(true);
  });

  it("cancels a sleeping run: its result rejects with the reason and nothing more runs", async () => {
    const clock = createTestClock();
    let after = 0;
    const wf = workflow("sleeper", async (ctx) => {
      await ctx.sleep("long", "30d");
      after++;
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    await eventually(async () => (await engine.getRun(run.id))?.status === "waiting");
    const info = await run.cancel("customer withdrew");
    // The request is recorded; the run wakes, replays to its sleep and cancels itself.
    expect(info.cancelRequested).toEqual({ reason: "customer withdrew", kind: "cancelled" });
    await expect(run.result()).rejects.toThrow(/was cancelled: customer withdrew/);
    expect((await engine.getRun(run.id))?.status).toBe("cancelled");
    await clock.advance("31d");
    expect(after).toBe(0);
    expect((await engine.journal(run.id)).map((e) => e.type).slice(-2)).toEqual([
      "run_cancel_requested",
      "run_cancelled",
    ]);
    expect((await engine.cancel(run.id)).status).toBe("cancelled");
  });

  it("cancels a running step through its AbortSignal and refuses its late result", async () => {
    let aborted: unknown = null;
    let entered = false;
    const wf = workflow("busy", async (ctx) =>
      ctx.step(
        "work",
        ({ signal }) =>
          new Promise<string>((resolve) => {
            entered = true;
            signal.addEventListener("abort", () => {
              aborted = signal.reason;
              resolve("finished anyway");
            });
          }),
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await eventually(() => entered);
    await engine.cancel(run.id, "stop");
    await expect(run.result()).rejects.toMatchObject({ name: "RunCancelledError" });
    expect((aborted as Error | null)?.name).toBe("RunCancelledError");
    await new Promise((r) => setTimeout(r, 20));
    const types = (await engine.journal(run.id)).map((e) => e.type);
    expect(types).not.toContain("step_succeeded");
    expect(types.at(-1)).toBe("run_cancelled");
  });

  it("pauses a run whose code changed shape, and resumes it when the code is fixed", async () => {
    const path = join(tempDir(), "determinism.db");
    const clock = createTestClock();
    const original = workflow("outreach", async (ctx) => {
      const lead = await ctx.step("research", () => "acme");
      await ctx.sleep("cooldown", "1d");
      return ctx.step("email", () => `mailed ${lead}`);
    });
    const changed = workflow("outreach", async (ctx) => {
      const lead = await ctx.step("lookup", () => "acme");
      await ctx.sleep("cooldown", "1d");
      return ctx.step("email", () => `mailed ${lead}`);
    });
    const first = await sqliteEngine({ path, workflows: [original], clock });
    await first.start(original, undefined, { id: "o-1" });
    await eventually(async () => (await first.getRun("o-1"))?.status === "waiting");
    await first.close();

    const second = await sqliteEngine({ path, workflows: [changed], clock });
    await clock.advance("1d");
    const paused = await eventually(async () => {
      const info = await second.getRun("o-1");
      return info?.status === "paused" ? info : null;
    });
    expect(paused.pausedReason).toBe("non_determinism");
    const pause = (await second.journal("o-1")).find((e) => e.type === "run_paused");
    const error = (pause?.data as { error: Error & { code: string } }).error;
    expect(error.name).toBe("NonDeterminismError");
    expect(error.code).toBe("non_determinism");
    expect(error.message).toContain("run o-1 diverged from its journal at position 1");
    expect(error.message).toContain("recorded step 'research#1'");
    expect(error.message).toContain("asked for step 'lookup#1'");
    expect(error.message).toMatch(/runs\.test\.ts:\d+:\d+/);
    await second.close();

    const third = await sqliteEngine({ path, workflows: [original], clock });
    expect(await third.handle("o-1").result()).toBe("mailed acme");
    expect(
      (await third.journal("o-1")).filter((e) => e.type === "step_succeeded").map((e) => e.key),
    ).toEqual(["research#1", "email#1"]);
  });

  it("resumes unfinished runs when an engine starts on the same file", async () => {
    const path = join(tempDir(), "recover.db");
    const wf = workflow("later", async (ctx) => ctx.step("s", () => "resumed"));
    const client = await sqliteEngine({ path, workflows: [wf], worker: false });
    await client.start(wf, undefined, { id: "queued" });
    expect((await client.getRun("queued"))?.status).toBe("pending");
    const worker = await sqliteEngine({ path, workflows: [wf] });
    expect(await worker.handle("queued").result()).toBe("resumed");
  });
});
