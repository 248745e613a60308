// Proves the API's run routes over real HTTP through endure/client: starting a run
// (idempotent by id, ?wait= answering 200 with the result or 202 with its URLs and explain
// sentence), reading it, listing runs with every filter and a cursor, its journal in pages,
// explain, cancel, retry of a failed run, resume refusals, and signals.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually } from "../helpers.js";
import { failure, serve } from "./support.js";

const greet = workflow("greet", async (ctx, input: { name: string }) => {
  const text = await ctx.step("compose", () => `hello ${input.name}`);
  return { text };
});

const gate = workflow("gate", async (ctx, _input: unknown) => {
  const signal = await ctx.waitForSignal("go", { timeout: "1h" });
  return signal?.data;
});

let flaky = true;
const fragile = workflow("fragile", async (ctx, _input: unknown) => {
  const a = await ctx.step("first", () => "one");
  const b = await ctx.step(
    "second",
    () => {
      if (flaky) throw new Error("the service is down");
      return "two";
    },
    { retries: 0 },
  );
  return [a, b];
});

describe("run routes", () => {
  it("starts a run, idempotent by id, and reads it back", async () => {
    const s = await serve({ workflows: [greet] });
    const first = await s.operator.start("greet", { name: "Ada" }, { id: "greet-1" });
    expect(first.status).toBe(201);
    expect(first.created).toBe(true);
    expect(first.url).toBe("/v1/runs/greet-1");
    expect(first.streamUrl).toBe("/v1/runs/greet-1/stream");
    const again = await s.operator.start("greet", { name: "Ada" }, { id: "greet-1" });
    expect(again.status).toBe(200);
    expect(again.created).toBe(false);
    const done = await eventually(async () => {
      const run = await s.viewer.getRun("greet-1");
      return run.status === "completed" ? run : null;
    });
    expect(done.output).toEqual({ text: "hello Ada" });
    expect(typeof done.createdAt).toBe("string");
  });

  it("answers ?wait= with the result when the run ends in time, else 202 with where it is", async () => {
    const s = await serve({ workflows: [greet, gate] });
    const quick = await s.operator.start("greet", { name: "Bo" }, { wait: "10s" });
    expect(quick.status).toBe(200);
    expect(quick.run.status).toBe("completed");
    expect(quick.run.output).toEqual({ text: "hello Bo" });
    const slow = await s.operator.start("gate", null, { id: "gate-1", wait: "200ms" });
    expect(slow.status).toBe(202);
    expect(slow.url).toBe("/v1/runs/gate-1");
    expect(slow.explain).toMatch(/signal 'go'/);
    const bad = await failure(s.operator.start("greet", { name: "x" }, { wait: "2h" }));
    expect(bad).toMatchObject({ code: "invalid_argument", status: 400, field: "wait" });
    const unknown = await failure(s.operator.start("nope", {}));
    expect(unknown).toMatchObject({ code: "workflow_not_found", status: 404 });
  });

  it("lists runs with filters by workflow, status, time and id text, page by page", async () => {
    const s = await serve({ workflows: [greet, gate] });
    for (let i = 0; i < 5; i++)
      await s.operator.start("greet", { name: `n${i}` }, { id: `greet-${i}`, wait: "10s" });
    await s.operator.start("gate", null, { id: "gate-a" });
    const all = await s.viewer.listRuns({ limit: 4 });
    expect(all.runs).toHaveLength(4);
    expect(all.next).not.toBeNull();
    const rest = await s.viewer.listRuns({ limit: 4, cursor: all.next ?? "" });
    expect(rest.runs.length).toBe(2);
    expect(rest.next).toBeNull();
    const ids = [...all.runs, ...rest.runs].map((r) => r.id);
    expect(new Set(ids).size).toBe(6);
    expect((await s.viewer.listRuns({ workflow: "gate" })).runs.map((r) => r.id)).toEqual([
      "gate-a",
    ]);
    expect((await s.viewer.listRuns({ status: "completed" })).runs).toHaveLength(5);
    expect((await s.viewer.listRuns({ idContains: "eet-3" })).runs.map((r) => r.id)).toEqual([
      "greet-3",
    ]);
    const future = new Date(Date.now() + 60_000);
    expect((await s.viewer.listRuns({ createdAfter: future })).runs).toHaveLength(0);
    expect((await s.viewer.listRuns({ createdBefore: future })).runs).toHaveLength(6);
    const wrong = await failure(s.viewer.listRuns({ status: "sleeping" as never }));
    expect(wrong).toMatchObject({ code: "invalid_argument", field: "status" });
  });

  it("reads a journal in pages and explains a run", async () => {
    const s = await serve({ workflows: [greet] });
    await s.operator.start("greet", { name: "Cy" }, { id: "j-1", wait: "10s" });
    const whole = await s.viewer.journal("j-1");
    expect(whole.entries.map((e) => e.type)).toContain("step_succeeded");
    expect(whole.next).toBeNull();
    const first = await s.viewer.journal("j-1", { limit: 1 });
    expect(first.entries).toHaveLength(1);
    expect(first.next).toBe(2);
    const second = await s.viewer.journal("j-1", { from: first.next ?? 0, limit: 1 });
    expect(second.entries[0]?.seq).toBe(2);
    const explained = await s.viewer.explain("j-1");
    expect(explained.status).toBe("completed");
    expect(explained.sentence).toMatch(/completed/);
    expect(await failure(s.viewer.journal("nope"))).toMatchObject({
      code: "run_not_found",
      status: 404,
    });
    expect(await failure(s.viewer.explain("nope"))).toMatchObject({
      code: "run_not_found",
      status: 404,
    });
  });

  it("signals, cancels, refuses to resume a run that is not paused, and retries a failed run", async () => {
    const s = await serve({ workflows: [gate, fragile] });
    await s.operator.start("gate", null, { id: "g-1" });
    await s.operator.signal("g-1", "go", { ok: 1 });
    await eventually(async () => (await s.viewer.getRun("g-1")).status === "completed");
    expect((await s.viewer.getRun("g-1")).output).toEqual({ ok: 1 });
    expect(await failure(s.operator.signal("g-1", "go"))).toMatchObject({
      code: "run_finished",
      status: 409,
    });

    await s.operator.start("gate", null, { id: "g-2" });
    const cancelled = await s.operator.cancel("g-2", "not needed");
    expect(cancelled.id).toBe("g-2");
    await eventually(async () => (await s.viewer.getRun("g-2")).status === "cancelled");
    expect(await failure(s.operator.resume("g-2"))).toMatchObject({
      code: "invalid_argument",
      status: 400,
    });

    flaky = true;
    const failed = await s.operator.start("fragile", null, { id: "f-1", wait: "10s" });
    expect(failed.run.status).toBe("failed");
    expect(failed.run.error).toMatchObject({ name: "Error", message: "the service is down" });
    flaky = false;
    const retried = await s.operator.retry("f-1");
    expect(retried.status).toBe("pending");
    const ended = await eventually(async () => {
      const run = await s.viewer.getRun("f-1");
      return run.status === "completed" ? run : null;
    });
    expect(ended.output).toEqual(["one", "two"]);
    const journal = (await s.viewer.journal("f-1")).entries;
    expect(journal.filter((e) => e.type === "run_retried")).toHaveLength(1);
    expect(
      journal.filter((e) => e.type === "step_succeeded" && e.key?.startsWith("first")),
    ).toHaveLength(1);
    expect(await failure(s.operator.retry("f-1"))).toMatchObject({
      code: "run_finished",
      status: 409,
    });
  });

  it("rewinds an ended run and forks a run, journaled with the token's name", async () => {
    const s = await serve({ workflows: [fragile] });
    flaky = false;
    const done = await s.operator.start("fragile", null, { id: "rw-1", wait: "10s" });
    expect(done.run.status).toBe("completed");
    const rewound = await s.operator.rewind("rw-1", { toStep: "second" });
    expect(rewound.status).toBe("pending");
    await eventually(async () => (await s.viewer.getRun("rw-1")).status === "completed");
    const journal = (await s.viewer.journal("rw-1")).entries;
    expect(journal.find((e) => e.type === "run_rewound")?.data).toEqual({
      by: "otto@example.com",
      step: "second#1",
      position: 2,
    });
    expect(journal.filter((e) => e.superseded === true).map((e) => e.type)).toEqual([
      "step_attempt_started",
      "step_succeeded",
      "run_completed",
    ]);
    expect(journal.filter((e) => e.type === "step_succeeded" && e.key === "first#1")).toHaveLength(
      1,
    );

    const fork = await s.operator.fork("rw-1", { atStep: 2, output: "edited", id: "rw-1-fork" });
    expect(fork.id).toBe("rw-1-fork");
    const forked = await eventually(async () => {
      const run = await s.viewer.getRun("rw-1-fork");
      return run.status === "completed" ? run : null;
    });
    expect(forked.output).toEqual(["one", "edited"]);
    const forkJournal = (await s.viewer.journal("rw-1-fork")).entries;
    expect(forkJournal.find((e) => e.type === "run_forked")?.data).toMatchObject({
      by: "otto@example.com",
      from: "rw-1",
      edited: true,
    });

    expect(await failure(s.operator.fork("rw-1", { atStep: 7 }))).toMatchObject({
      code: "position_not_found",
      status: 404,
    });
    expect(await failure(s.viewer.rewind("rw-1", { toStep: 1 }))).toMatchObject({
      code: "forbidden",
      status: 403,
    });
    expect(await failure(s.operator.rewind("rw-1", { toStep: "" }))).toMatchObject({
      status: 400,
    });
  });

  it("refuses to rewind a run still in flight", async () => {
    const s = await serve({ workflows: [gate] });
    await s.operator.start("gate", null, { id: "g-rw" });
    await eventually(async () => (await s.viewer.getRun("g-rw")).status === "waiting");
    expect(await failure(s.operator.rewind("g-rw", { toStep: 1 }))).toMatchObject({
      code: "run_active",
      status: 409,
    });
  });
});
