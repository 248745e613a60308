// Proves updates: a waiting (evicted) run takes an update that changes its state and does
// durable work, and the caller gets the handler's result; the same update id sent again is
// not run again; a validator's refusal journals nothing; the handler's error reaches the
// caller; unknown names, ended runs and unknown runs get typed errors; a worker that stops
// and a new one that replays deliver nothing twice.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

let handled = 0;
const order = workflow("order", async (ctx, input: { address: string }) => {
  let address = input.address;
  ctx.onQuery("address", () => address);
  ctx.onUpdate(
    "address",
    async (next: string) => {
      // Workflow code: it runs again on replay, but its step's body only once.
      const checked = await ctx.step("check address", () => {
        handled++;
        return next.toLowerCase();
      });
      address = checked;
      return { address, at: "updated" };
    },
    {
      validate: (next) =>
        (typeof next === "string" && next.includes("@")) || "not an e-mail address",
    },
  );
  ctx.onUpdate("explode", () => {
    throw new Error("cannot do that now");
  });
  const ok = await ctx.approval("ship", { title: "Ship?" });
  return ok.approved ? `shipped to ${address}` : "held";
});

describe("updates", () => {
  it("delivers an update once to a waiting run, refuses without journaling, returns errors", async () => {
    handled = 0;
    const path = join(tempDir(), "u.db");
    const engine = await sqliteEngine({ path, workflows: [order], worker: { inMemoryWait: 10 } });
    const run = await engine.start(order, { address: "old@example.com" }, { id: "o1" });
    await eventually(
      async () => (await engine.getRun("o1"))?.status === "waiting",
      10_000,
      "evicted",
    );
    const before = await engine.journal("o1");
    await expect(engine.update("o1", "address", "nowhere")).rejects.toMatchObject({
      code: "update_rejected",
      message: expect.stringMatching(/not an e-mail address/),
    });
    await expect(engine.update("o1", "nope", 1)).rejects.toMatchObject({
      code: "update_not_found",
      message: expect.stringMatching(/registers: address, explode/),
    });
    expect(await engine.journal("o1")).toEqual(before);
    const result = await engine.update("o1", "address", "Ana@Example.com", { id: "fix-1" });
    expect(result).toEqual({ address: "ana@example.com", at: "updated" });
    // The caller retries: the same outcome, and the handler did not run again.
    expect(await engine.update("o1", "address", "Ana@Example.com", { id: "fix-1" })).toEqual(
      result,
    );
    expect(handled).toBe(1);
    await expect(engine.update("o1", "explode", null)).rejects.toThrow("cannot do that now");
    expect(await engine.query("o1", "address")).toBe("ana@example.com");
    await engine.approve("o1", "ship", { by: "bo" });
    expect(await run.result()).toBe("shipped to ana@example.com");
    const steps = (await engine.journal("o1")).filter((e) => e.type === "step_succeeded");
    expect(steps.filter((e) => e.key === "check address#1")).toHaveLength(1);
    await expect(engine.update("o1", "address", "x@y.z")).rejects.toMatchObject({
      code: "run_finished",
    });
    await expect(engine.update("none", "address", "x@y.z")).rejects.toMatchObject({
      code: "run_not_found",
    });
  });

  it("survives a new worker replaying the run: the update's work is not done twice", async () => {
    handled = 0;
    const path = join(tempDir(), "u2.db");
    const first = await sqliteEngine({ path, workflows: [order], worker: { inMemoryWait: "1h" } });
    await first.start(order, { address: "a@b.c" }, { id: "o2" });
    await eventually(async () => (await first.approvals()).length === 1, 10_000, "approval");
    expect(await first.update("o2", "address", "C@D.E", { id: "u-1" })).toMatchObject({
      address: "c@d.e",
    });
    await first.close();
    const second = await sqliteEngine({ path, workflows: [order] });
    // The second worker replays the run, update included, from the journal.
    expect(await second.query("o2", "address")).toBe("c@d.e");
    expect(await second.update("o2", "address", "C@D.E", { id: "u-1" })).toMatchObject({
      address: "c@d.e",
    });
    await second.approve("o2", "ship", { by: "bo" });
    expect(await second.handle("o2").result()).toBe("shipped to c@d.e");
    expect(handled).toBe(1);
  });
});
