// Proves the waterfall is read correctly from a journal: one row per operation with its
// attempts and retries, model calls with their model and tokens, waits with their target,
// open operations left open, and operations that overlapped in time grouped as parallel.
import { describe, expect, it } from "vitest";
import { buildTimeline, timelineSpan, type Entry } from "../../dashboard/src/timeline.js";

let seq = 0;
const e = (
  type: string,
  at: number,
  position: number | null,
  key: string | null,
  data: unknown = null,
): Entry => ({
  seq: ++seq,
  type,
  at,
  position,
  key,
  data,
});

describe("buildTimeline", () => {
  it("reads a step that failed once and then succeeded, and a model call", () => {
    const ops = buildTimeline([
      e("run_started", 0, null, null),
      e("step_attempt_started", 10, 1, "fetch", { attempt: 1 }),
      e("step_attempt_failed", 30, 1, "fetch", { attempt: 1, error: { message: "503" } }),
      e("step_attempt_started", 50, 1, "fetch", { attempt: 2 }),
      e("step_succeeded", 80, 1, "fetch", { attempt: 2, result: { ok: true } }),
      e("step_attempt_started", 90, 2, "model#1", { attempt: 1 }),
      e("step_succeeded", 190, 2, "model#1", {
        attempt: 1,
        usage: { inputTokens: 120, outputTokens: 30, costUsd: 0.002 },
        result: { model: "gpt-4.1-mini", text: "hi" },
      }),
    ]);
    expect(ops.map((o) => [o.key, o.kind, o.state, o.startMs, o.endMs])).toEqual([
      ["fetch", "step", "succeeded", 10, 80],
      ["model#1", "model", "succeeded", 90, 190],
    ]);
    expect(ops[0]!.attempts.map((a) => [a.n, a.failed, a.endMs])).toEqual([
      [1, true, 30],
      [2, false, 80],
    ]);
    expect(ops[0]!.output).toEqual({ ok: true });
    expect(ops[1]!.model).toBe("gpt-4.1-mini");
    expect(ops[1]!.usage).toEqual({ inputTokens: 120, outputTokens: 30, costUsd: 0.002 });
    expect(ops.every((o) => o.parallelGroup === null)).toBe(true);
  });

  it("leaves an approval that is still pending open, with what it waits for", () => {
    const [op] = buildTimeline([
      e("wait_started", 5, 1, "publish", { kind: "approval", target: "publish", timeoutAt: 1000 }),
    ]);
    expect(op).toMatchObject({ kind: "wait", state: "waiting", endMs: null });
    expect(op!.wait).toEqual({ kind: "approval", target: "publish", timeoutAt: 1000 });
    expect(timelineSpan([op!], 400)).toEqual({ startMs: 5, endMs: 400 });
  });

  it("groups operations that overlapped in time, and only those", () => {
    const ops = buildTimeline([
      e("step_attempt_started", 0, 1, "a", { attempt: 1 }),
      e("step_attempt_started", 1, 2, "b", { attempt: 1 }),
      e("step_succeeded", 20, 2, "b", { attempt: 1, result: 2 }),
      e("step_succeeded", 30, 1, "a", { attempt: 1, result: 1 }),
      e("step_attempt_started", 30, 3, "c", { attempt: 1 }),
      e("step_failed", 40, 3, "c", { attempts: 1, error: { message: "no" } }),
    ]);
    expect(ops.map((o) => [o.key, o.parallelGroup])).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", null],
    ]);
    expect(ops[2]).toMatchObject({ state: "failed", error: { message: "no" } });
  });
});
