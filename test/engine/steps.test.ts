// Proves every step option on a real SQLite file: results journaled before the code goes on,
// occurrences, retries with backoff, NonRetriableError, RetryAfterError, timeouts, verify, and
// how an exhausted step fails (or, caught, does not fail) its run.
import { describe, expect, it } from "vitest";
import { NonRetriableError, RetryAfterError, workflow, type JournalRecord } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";

const types = (journal: JournalRecord[]) =>
  journal.map((e) => (e.key === null ? e.type : `${e.type} ${e.key}`));

describe("steps", () => {
  it("journals each result before the next step and numbers repeated names by occurrence", async () => {
    const seen: string[] = [];
    const wf = workflow("enrich", async (ctx, input: { leads: string[] }) => {
      const out: string[] = [];
      for (const lead of input.leads) {
        out.push(
          await ctx.step("enrich", ({ stepKey }) => {
            seen.push(stepKey);
            return `${lead}!`;
          }),
        );
      }
      return out;
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, { leads: ["a", "b", "c"] });
    expect(await run.result()).toEqual(["a!", "b!", "c!"]);
    expect(seen).toEqual(["enrich#1", "enrich#2", "enrich#3"]);
    const journal = await engine.journal(run.id);
    expect(types(journal)).toEqual([
      "run_started",
      "step_attempt_started enrich#1",
      "step_succeeded enrich#1",
      "step_attempt_started enrich#2",
      "step_succeeded enrich#2",
      "step_attempt_started enrich#3",
      "step_succeeded enrich#3",
      "run_completed",
    ]);
    expect(journal[2]?.data).toEqual({ attempt: 1, result: "a!" });
    for (let i = 1; i < journal.length; i++)
      expect(journal[i]!.at.getTime()).toBeGreaterThanOrEqual(journal[i - 1]!.at.getTime());
  });

  it("retries a failing body with a stable idempotency key and journals each failed attempt", async () => {
    const calls: Array<{ attempt: number; key: string }> = [];
    const wf = workflow("flaky", async (ctx) =>
      ctx.step(
        "call",
        ({ attempt, idempotencyKey }) => {
          calls.push({ attempt, key: idempotencyKey });
          if (attempt < 3) throw new Error(`boom ${attempt}`);
          return "ok";
        },
        { retries: 2, backoff: { initial: 1, max: 2 } },
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined, { id: "flaky-1" });
    expect(await run.result()).toBe("ok");
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(new Set(calls.map((c) => c.key))).toEqual(new Set(["flaky-1/call#1"]));
    const journal = await engine.journal(run.id);
    const failed = journal.filter((e) => e.type === "step_attempt_failed");
    expect(failed.map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
    expect((failed[0]!.data as { error: Error }).error.message).toBe("boom 1");
  });

  it("fails the run with the step's own error once retries are exhausted", async () => {
    class QuotaError extends Error {
      override name = "QuotaError";
      readonly code = "quota";
    }
    const wf = workflow("exhaust", async (ctx) =>
      ctx.step(
        "call",
        () => {
          throw new QuotaError("out of quota");
        },
        { retries: 1, backoff: { initial: 1 } },
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    const error = await run.result().then(
      () => null,
      (e: unknown) => e as Error & { code: string },
    );
    expect(error?.name).toBe("QuotaError");
    expect(error?.message).toBe("out of quota");
    expect(error?.code).toBe("quota");
    const info = await engine.getRun(run.id);
    expect(info?.status).toBe("failed");
    expect(info?.error?.message).toBe("out of quota");
    const journal = await engine.journal(run.id);
    expect(types(journal).filter((t) => t.startsWith("step_"))).toEqual([
      "step_attempt_started call#1",
      "step_attempt_failed call#1",
      "step_attempt_started call#1",
      "step_failed call#1",
    ]);
  });

  it("lets the workflow catch an exhausted step and go on", async () => {
    const wf = workflow("catcher", async (ctx) => {
      try {
        await ctx.step("doomed", () => {
          throw new NonRetriableError("card declined");
        });
        return "charged";
      } catch (e) {
        return `fallback after: ${(e as Error).message} (${(e as Error).name})`;
      }
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, undefined)).result()).toBe(
      "fallback after: card declined (NonRetriableError)",
    );
  });

  it("stops at the first NonRetriableError whatever retries remain", async () => {
    let calls = 0;
    const wf = workflow("nonretriable", async (ctx) =>
      ctx.step(
        "call",
        () => {
          calls++;
          throw new NonRetriableError("no point retrying");
        },
        { retries: 5, backoff: { initial: 1 } },
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    await expect((await engine.start(wf, undefined)).result()).rejects.toThrow("no point retrying");
    expect(calls).toBe(1);
  });

  it("waits the delay a RetryAfterError asks for, and backs off exponentially with jitter otherwise", async () => {
    const clock = createTestClock();
    const wf = workflow("ratelimited", async (ctx) =>
      ctx.step(
        "call",
        ({ attempt }) => {
          if (attempt === 1) throw new RetryAfterError("40s", "429 Too Many Requests");
          if (attempt < 5) throw new Error("503");
          return attempt;
        },
        { retries: 5, backoff: { initial: "1s", max: "3s", factor: 2 } },
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock, worker: { inMemoryWait: "1h" } });
    const run = await engine.start(wf, undefined);
    const failures = async () =>
      (await engine.journal(run.id)).filter((e) => e.type === "step_attempt_failed");
    for (let n = 1; n <= 4; n++) {
      await eventually(async () => (await failures()).length >= n, 5_000, `failure ${n}`);
      await clock.advance("40s");
    }
    expect(await run.result()).toBe(5);
    const delays = (await failures()).map((e) => (e.data as { delayMs: number }).delayMs);
    expect(delays[0]).toBe(40_000);
    // Failures 2, 3, 4 back off from 2 s, 4 s (capped at 3 s), 3 s, each within 20% either way
    // and never past the cap.
    expect(delays[1]).toBeGreaterThanOrEqual(1_600);
    expect(delays[1]).toBeLessThanOrEqual(2_400);
    for (const d of delays.slice(2)) {
      expect(d).toBeGreaterThanOrEqual(2_400);
      expect(d).toBeLessThanOrEqual(3_000);
    }
  });

  it("aborts an attempt that runs past its timeout and retries it", async () => {
    const aborted: boolean[] = [];
    const wf = workflow("slow", async (ctx) =>
      ctx.step(
        "call",
        async ({ attempt, signal }) => {
          if (attempt === 1) {
            await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
            aborted.push(signal.aborted);
            return "too late";
          }
          return "fast enough";
        },
        { timeout: 50, retries: 1, backoff: { initial: 1 } },
      ),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    expect(await run.result()).toBe("fast enough");
    expect(aborted).toEqual([true]);
    const failed = (await engine.journal(run.id)).find((e) => e.type === "step_attempt_failed");
    expect((failed?.data as { error: Error }).error.name).toBe("StepTimeoutError");
  });

  it("counts a refused verification as a failed attempt and journals the reason", async () => {
    const wf = workflow("verified", async (ctx) =>
      ctx.step("draft", ({ attempt }) => ({ words: attempt === 1 ? 3 : 120 }), {
        retries: 2,
        backoff: { initial: 1 },
        verify: (draft) => (draft.words >= 100 ? true : `only ${draft.words} words, need 100`),
      }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    expect(await run.result()).toEqual({ words: 120 });
    const refused = (await engine.journal(run.id)).filter(
      (e) => e.type === "step_verification_failed",
    );
    expect(refused).toHaveLength(1);
    expect((refused[0]!.data as { error: Error }).error.message).toContain(
      "only 3 words, need 100",
    );
  });

  it("refuses step names that are not non-empty strings", async () => {
    const wf = workflow("badname", async (ctx, input: { name: unknown }) =>
      ctx.step(input.name as string, () => 1),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    for (const name of ["", 42, null]) {
      const error = await (await engine.start(wf, { name })).result().then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(error?.code).toBe("invalid_argument");
      expect(error?.message).toMatch(/step name must be a non-empty string/);
    }
  });
});
