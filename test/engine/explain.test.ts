// Proves engine.explain gives a structured state and a plain sentence for every state a run
// can be in, on real SQLite with an injected clock so the durations in sentences are exact.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NonRetriableError, workflow } from "endure";
import { createTestClock } from "endure/testing";
import { formatDuration } from "../../src/engine/explain.js";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

class RateLimited extends Error {
  override name = "RateLimited";
  readonly status = 429;
}

describe("explain", () => {
  it("formats durations with their two largest units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(40_000)).toBe("40s");
    expect(formatDuration(2 * 3_600_000 + 3 * 60_000 + 9_000)).toBe("2h 3m");
    expect(formatDuration(6 * 86_400_000 + 21 * 3_600_000 + 59 * 60_000)).toBe("6d 21h");
    expect(formatDuration(3 * 86_400_000)).toBe("3d");
  });

  it("says what a run waits for, and for how long", async () => {
    const clock = createTestClock();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const wf = workflow("states", async (ctx, input: { mode: string }) => {
      await ctx.step("research", () => "done");
      switch (input.mode) {
        case "approval":
          return ctx.approval("publish", {
            title: "Publish?",
            approvers: ["a", "b", "c"],
            quorum: 2,
            timeout: "7d",
          });
        case "event":
          return ctx.waitForEvent("reply", {
            event: "email.replied",
            match: { "data.thread": "t-9" },
            timeout: "30d",
          });
        case "signal":
          return ctx.waitForSignal("go", { timeout: "1d" });
        case "sleep":
          return ctx.sleep("cool-off", "2d");
        case "retry":
          return ctx.step(
            "search",
            () => {
              throw new RateLimited("429 Too Many Requests");
            },
            { retries: 4, backoff: { initial: "1d", max: "1d", factor: 1 } },
          );
        case "busy":
          return ctx.step("draft", () => gate);
        default:
          throw new Error(`no mode ${input.mode}`);
      }
    });
    const engine = await sqliteEngine({ workflows: [wf], clock, worker: { inMemoryWait: "1h" } });
    const start = async (mode: string) => {
      const run = await engine.start(wf, { mode }, { id: mode });
      return run;
    };
    const sentence = async (id: string, pattern: RegExp) =>
      eventually(
        async () => {
          const e = await engine.explain(id);
          return pattern.test(e.sentence) ? e : null;
        },
        10_000,
        `${id} to match ${pattern}`,
      );

    await start("approval");
    await start("event");
    await start("signal");
    await start("sleep");
    await start("retry");
    await start("busy");
    await sentence("approval", /approval/);
    await engine.approve("approval", "publish", { by: "a" });
    await sentence("retry", /retrying/);
    await clock.advance("2h3m");

    const approval = await sentence(
      "approval",
      /^waiting for approval 'publish' \(1 of 2 approvals\) since 2h 3m; times out in 6d 21h$/,
    );
    expect(approval.state).toMatchObject({
      kind: "waiting_for_approval",
      approval: "publish",
      title: "Publish?",
      approvals: 1,
      quorum: 2,
    });
    await sentence(
      "event",
      /^waiting for event 'email\.replied' matching data\.thread = "t-9" since 2h 3m; times out in 29d 21h$/,
    );
    await sentence("signal", /^waiting for signal 'go' since 2h 3m; times out in 21h 57m$/);
    await sentence("sleep", /^sleeping 'cool-off' until .* \(in 1d 21h\)$/);
    const retry = await engine.explain("retry");
    expect(retry.state).toMatchObject({
      kind: "retrying",
      step: "search",
      attempts: 5,
      lastError: "a 429",
    });
    expect(retry.sentence).toMatch(
      /^retrying step 'search' \(attempt 2 of 5\) after a 429; next try in \d+h \d+m$/,
    );
    const busy = await engine.explain("busy");
    expect(busy.sentence).toBe(
      "running step 'draft' (attempt 1) for 2h 3m; last completed step: 'research'",
    );
    expect(busy.state).toMatchObject({ kind: "running", step: "draft", attempt: 1 });
    release();
    await engine.handle("busy").result();
    expect((await engine.explain("busy")).sentence).toBe("completed 0s ago, after 2h 3m");
  });

  it("explains pending, failed, cancelled, cancelling, timed-out and paused runs", async () => {
    const clock = createTestClock();
    const path = join(tempDir(), "explain.db");
    const failing = workflow("failing", async (ctx) =>
      ctx.step(
        "charge",
        () => {
          throw new Error("card declined");
        },
        { retries: 2, backoff: { initial: 1 } },
      ),
    );
    const stubborn = workflow("stubborn", async (ctx) => {
      ctx.onCancel(async () => {
        await ctx.waitForSignal("cleanup-done");
      });
      await ctx.waitForSignal("never");
    });
    const quick = workflow("quick", async (ctx) => ctx.sleep("nap", "1d"), { ttl: "1h" });
    const client = await sqliteEngine({ path, workflows: [failing], worker: false, clock });
    await client.start(failing, undefined, { id: "queued" });
    expect((await client.explain("queued")).sentence).toBe("queued for a worker since 0s");

    const engine = await sqliteEngine({ path, workflows: [failing, stubborn, quick], clock });
    // Its retries wait on the virtual clock: move it along until the step gives up.
    await eventually(async () => {
      await clock.advance(10);
      return (await engine.getRun("queued"))?.status === "failed";
    });
    expect((await engine.explain("queued")).sentence).toBe(
      "failed 0s ago at step 'charge' after 3 attempts: card declined",
    );
    const stuck = await engine.start(stubborn, undefined, { id: "stuck" });
    await eventually(
      async () => (await engine.explain("stuck")).state.kind === "waiting_for_signal",
    );
    await stuck.cancel("no longer needed");
    await eventually(
      async () =>
        (await engine.explain("stuck")).sentence ===
        "cancelling (no longer needed): its cleanup is running",
    );
    await engine.signal("stuck", "cleanup-done");
    await stuck.result().catch(() => undefined);
    expect((await engine.explain("stuck")).sentence).toBe("cancelled 0s ago: no longer needed");
    const ttl = await engine.start(quick, undefined, { id: "ttl" });
    await eventually(async () => (await engine.getRun("ttl"))?.status === "waiting");
    await clock.advance("1h");
    await ttl.result().catch(() => undefined);
    expect((await engine.explain("ttl")).sentence).toBe(
      "timed out 0s ago: it ran longer than its workflow's ttl",
    );
    await expect(engine.explain("nope")).rejects.toMatchObject({ code: "run_not_found" });
  });

  it("explains a run paused because its code no longer matches its journal", async () => {
    const clock = createTestClock();
    const path = join(tempDir(), "paused.db");
    const v1 = workflow("shift", async (ctx) => {
      await ctx.sleep("nap", "1h");
      await ctx.step("a", () => 1);
    });
    const v2 = workflow("shift", async (ctx) => {
      await ctx.step("b", () => 1);
    });
    const first = await sqliteEngine({ path, workflows: [v1], clock });
    await first.start(v1, undefined, { id: "p" });
    await eventually(async () => (await first.getRun("p"))?.status === "waiting");
    await first.close();
    const second = await sqliteEngine({ path, workflows: [v2], clock });
    await clock.advance("1h");
    const explained = await eventually(async () => {
      const e = await second.explain("p");
      return e.state.kind === "paused" ? e : null;
    });
    expect(explained.sentence).toMatch(
      /^paused: its code no longer matches its journal; deploy matching code and it resumes\. run p diverged from its journal at position 1/,
    );
    expect(explained.state).toMatchObject({
      kind: "paused",
      error: { name: "NonDeterminismError", code: "non_determinism", props: { position: 1 } },
    });
  });

  it("keeps a failed run's error class and names every open approval", async () => {
    const clock = createTestClock();
    const strict = workflow("strict", async (ctx) =>
      ctx.step("charge", () => {
        throw new NonRetriableError("card expired");
      }),
    );
    const twice = workflow("twice", async (ctx) =>
      Promise.all([
        ctx.approval("legal", { title: "Legal ok?", timeout: "2d" }),
        ctx.approval("budget", { title: "Budget ok?", timeout: "7d" }),
      ]),
    );
    const engine = await sqliteEngine({ workflows: [strict, twice], clock });
    await engine
      .start(strict, undefined, { id: "strict" })
      .then((r) => r.result().catch(() => null));
    const failed = await engine.explain("strict");
    expect(failed.sentence).toBe(
      "failed 0s ago at step 'charge' after 1 attempt: NonRetriableError: card expired",
    );
    expect(failed.state).toMatchObject({
      kind: "failed",
      errorName: "NonRetriableError",
      errorCode: "non_retriable",
    });
    await engine.start(twice, undefined, { id: "twice" });
    await eventually(async () => (await engine.approvals({ runId: "twice" })).length === 2);
    await clock.advance("1h");
    const both = await engine.explain("twice");
    expect(both.sentence).toMatch(/^waiting for approval '(legal|budget)' since 1h; times out in/);
    expect(both.sentence).toContain("'legal'");
    expect(both.sentence).toContain("'budget'");
    expect(both.alsoPending).toBe(0);
    expect(both.state).toMatchObject({ kind: "waiting_for_approval" });
    const state = both.state as Extract<typeof both.state, { kind: "waiting_for_approval" }>;
    expect([state.approval, ...state.others.map((o) => o.approval)].sort()).toEqual([
      "budget",
      "legal",
    ]);
  });
});
