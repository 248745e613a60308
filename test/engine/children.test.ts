// Proves ctx.invoke and ctx.startChild on real SQLite: the child's output reaches the parent,
// a failed child reaches it as a ChildRunFailedError it can catch, children carry their
// parent's id, and a cancelled parent cancels the children it waits for.
import { describe, expect, it } from "vitest";
import { isEndureError, workflow } from "endure";
import { eventually, sqliteEngine } from "../helpers.js";

const double = workflow("double", async (ctx, input: { n: number }) =>
  ctx.step("double", () => input.n * 2),
);
const boom = workflow("boom", async (ctx) => {
  await ctx.step(
    "boom",
    () => {
      throw new Error("no luck");
    },
    { retries: 0 },
  );
  return 0;
});
const forever = workflow("forever", async (ctx) => {
  await ctx.sleep("long", "30d");
  return 1;
});

describe("child runs", () => {
  it("invoke returns the child's output, a failure is a ChildRunFailedError", async () => {
    const parent = workflow("parent", async (ctx, input: { n: number }) => {
      const a = await ctx.invoke("double", double, { n: input.n });
      let caught = "";
      try {
        await ctx.invoke("boom", boom, {});
      } catch (e) {
        if (isEndureError(e, "child_run_failed")) caught = (e.cause as Error).message;
      }
      const started = await ctx.startChild("fire", double, { n: 5 });
      return { a, caught, started: started.runId };
    });
    const engine = await sqliteEngine({ workflows: [parent, double, boom] });
    const run = await engine.start(parent, { n: 21 }, { id: "p1" });
    expect(await run.result()).toEqual({ a: 42, caught: "no luck", started: "p1/fire#1" });
    expect((await engine.getRun("p1/double#1"))?.parentId).toBe("p1");
    const journal = await engine.journal("p1");
    expect(
      journal.some(
        (e) => e.type === "wait_started" && JSON.stringify(e.data).includes("p1/double#1"),
      ),
    ).toBe(true);
  });

  it("cancelling the parent cancels the child it waits for", async () => {
    const parent = workflow("waiting-parent", async (ctx) => ctx.invoke("f", forever, {}));
    const engine = await sqliteEngine({ workflows: [parent, forever] });
    await engine.start(parent, {}, { id: "p2" });
    await eventually(async () => (await engine.getRun("p2/f#1")) !== null, 10_000, "child");
    await engine.cancel("p2", "enough");
    await eventually(
      async () => (await engine.getRun("p2/f#1"))?.status === "cancelled",
      10_000,
      "child cancelled",
    );
  });
});
