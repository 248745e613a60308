// Proves queries: a handler registered with ctx.onQuery answers from a live run and from an
// evicted one (by a replay that writes nothing: the journal is the same before and after),
// from a client engine too; a handler that starts a step or a wait is refused and the run
// goes on as if nothing happened; unknown names and runs get typed errors.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

const research = workflow("research", async (ctx, input: { topics: string[] }) => {
  const found: string[] = [];
  let phase = "starting";
  ctx.onQuery("progress", () => ({ phase, found: [...found] }));
  ctx.onQuery("has", (topic: string) => found.includes(topic));
  for (const topic of input.topics) found.push(await ctx.step("search", () => `${topic}!`));
  phase = "waiting for approval";
  const ok = await ctx.approval("publish", { title: "Publish?" });
  phase = ok.approved ? "published" : "dropped";
  return found;
});

const meddler = workflow("meddler", async (ctx) => {
  ctx.onQuery("step", () => ctx.step("sneaky", () => 1));
  ctx.onQuery("wait", () => ctx.sleep("nap", "1s"));
  ctx.onQuery("now", () => ctx.now());
  ctx.onQuery("async", async () => 1);
  await ctx.step("a", () => 1);
  await ctx.approval("go", { title: "Go?" });
  return await ctx.step("b", () => 2);
});

describe("queries", () => {
  it("answers from the live run without touching its journal", async () => {
    const engine = await sqliteEngine({ workflows: [research], worker: { inMemoryWait: "1h" } });
    const run = await engine.start(research, { topics: ["a", "b"] }, { id: "live" });
    await eventually(async () => (await engine.approvals()).length === 1, 10_000, "approval");
    const before = await engine.journal("live");
    expect(await engine.query("live", "progress")).toEqual({
      phase: "waiting for approval",
      found: ["a!", "b!"],
    });
    expect(await engine.query("live", "has", "b!")).toBe(true);
    expect(await engine.journal("live")).toEqual(before);
    await engine.approve("live", "publish", { by: "ana" });
    expect(await run.result()).toEqual(["a!", "b!"]);
    expect(await engine.query("live", "progress")).toEqual({
      phase: "published",
      found: ["a!", "b!"],
    });
  });

  it("answers an evicted run by a replay that writes nothing, also from a client engine", async () => {
    const path = join(tempDir(), "q.db");
    const engine = await sqliteEngine({
      path,
      workflows: [research],
      worker: { inMemoryWait: 10 },
    });
    const run = await engine.start(research, { topics: ["x", "y", "z"] }, { id: "evicted" });
    await eventually(
      async () => (await engine.getRun("evicted"))?.status === "waiting",
      10_000,
      "the run to be evicted",
    );
    const before = await engine.journal("evicted");
    expect(before.map((e) => e.type)).toContain("run_suspended");
    expect(await engine.query("evicted", "progress")).toEqual({
      phase: "waiting for approval",
      found: ["x!", "y!", "z!"],
    });
    const client = await sqliteEngine({ path, workflows: [research], worker: false });
    expect(await client.query("evicted", "has", "y!")).toBe(true);
    expect(await engine.journal("evicted")).toEqual(before);
    expect((await engine.getRun("evicted"))?.status).toBe("waiting");
    await engine.approve("evicted", "publish", { by: "ana" });
    expect(await run.result()).toEqual(["x!", "y!", "z!"]);
  });

  it("refuses a handler that starts a step, a wait or records a value, and the run goes on", async () => {
    const engine = await sqliteEngine({ workflows: [meddler], worker: { inMemoryWait: "1h" } });
    const run = await engine.start(meddler, undefined, { id: "m" });
    await eventually(async () => (await engine.approvals()).length === 1, 10_000, "approval");
    await expect(engine.query("m", "step")).rejects.toMatchObject({
      code: "query_refused",
      message: expect.stringMatching(/query 'step' of run m tried to start step 'sneaky'/),
    });
    await expect(engine.query("m", "wait")).rejects.toMatchObject({ code: "query_refused" });
    await expect(engine.query("m", "now")).rejects.toMatchObject({
      code: "query_refused",
      message: expect.stringMatching(/ctx\.now\(\)/),
    });
    await expect(engine.query("m", "async")).rejects.toMatchObject({
      code: "query_refused",
      message: expect.stringMatching(/synchronous/),
    });
    await expect(engine.query("m", "nothing")).rejects.toMatchObject({
      code: "query_not_found",
      message: expect.stringMatching(/registers: step, wait, now, async/),
    });
    await expect(engine.query("nope", "step")).rejects.toMatchObject({ code: "run_not_found" });
    await engine.approve("m", "go", { by: "ana" });
    expect(await run.result()).toBe(2);
    const keys = (await engine.journal("m")).map((e) => e.key).filter((k) => k !== null);
    expect(keys).not.toContain("sneaky#1");
    expect(new Set(keys)).toEqual(new Set(["a#1", "go#1", "b#1"]));
  });
});
