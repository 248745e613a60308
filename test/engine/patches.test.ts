// Patches: ctx.patched(id) is false for runs that passed the patched point on the code before
// it and true (journaled) for runs that reach it on the new code; ctx.deprecatePatch(id) keeps
// only the new branch and pauses, with a clear divergence, a run that still needs the old one;
// an id used at two places is refused.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, RunPausedError, workflow, type Engine, type Workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";

const ran: string[] = [];

type Variant = "before" | "patched" | "deprecated" | "reused";

function order(variant: Variant): Workflow<{ id: string }, string> {
  return workflow("order", async (ctx, input: { id: string }) => {
    await ctx.step("reserve", () => ran.push(`${input.id}:reserve`));
    let branch: string;
    if (variant === "before") branch = "by-rules";
    else if (variant === "deprecated") {
      ctx.deprecatePatch("score-with-model");
      branch = "by-model";
    } else {
      branch = ctx.patched("score-with-model") ? "by-model" : "by-rules";
      if (variant === "reused") ctx.patched("score-with-model");
    }
    await ctx.step(`score-${branch}`, () => ran.push(`${input.id}:${branch}`));
    await ctx.waitForEvent("go", { event: "go", match: { "data.id": input.id }, timeout: "1h" });
    await ctx.step("ship", () => ran.push(`${input.id}:ship`));
    return branch;
  });
}

async function engineOn(path: string, wf: Workflow<{ id: string }, string>): Promise<Engine> {
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [wf],
    logger: { warn: () => {} },
    gcSchedule: null,
    worker: { inMemoryWait: "0s", pollInterval: "20ms" },
  });
  onCleanup(() => engine.close());
  return engine;
}

async function waiting(engine: Engine, id: string): Promise<void> {
  await engine.start("order", { id }, { id });
  await eventually(async () => (await engine.getRun(id))?.status === "waiting");
}

describe("patches", () => {
  it("replays runs that passed the point on old code on the old branch, and new runs on the new", async () => {
    const path = join(tempDir(), "endure.db");
    const old = await engineOn(path, order("before"));
    await waiting(old, "p-old");
    await old.close();

    const patched = await engineOn(path, order("patched"));
    await waiting(patched, "p-new");
    await patched.sendEvent({ name: "go", data: { id: "p-old" } });
    await patched.sendEvent({ name: "go", data: { id: "p-new" } });
    expect(await patched.handle("p-old").result()).toBe("by-rules");
    expect(await patched.handle("p-new").result()).toBe("by-model");
    expect(ran).toContain("p-old:by-rules");
    expect(ran).not.toContain("p-old:by-model");
    expect(ran).toContain("p-new:by-model");
    const marks = async (id: string) =>
      (await patched.journal(id)).filter((e) => e.type === "patch_applied").map((e) => e.key);
    expect(await marks("p-old")).toEqual([]);
    expect(await marks("p-new")).toEqual(["score-with-model"]);
  });

  it("retires a patch: runs that took it go on, a run that needs the old branch pauses", async () => {
    const path = join(tempDir(), "endure.db");
    const old = await engineOn(path, order("before"));
    await waiting(old, "d-old");
    await old.close();
    const patched = await engineOn(path, order("patched"));
    await waiting(patched, "d-took");
    await patched.close();
    // d-took passed the patched point on the patched code: its journal holds the marker.
    const deprecated = await engineOn(path, order("deprecated"));
    await waiting(deprecated, "d-new");
    await deprecated.sendEvent({ name: "go", data: { id: "d-old" } });
    await deprecated.sendEvent({ name: "go", data: { id: "d-new" } });
    await deprecated.sendEvent({ name: "go", data: { id: "d-took" } });
    expect(await deprecated.handle("d-new").result()).toBe("by-model");
    expect(await deprecated.handle("d-took").result()).toBe("by-model");
    const error = await deprecated
      .handle("d-old")
      .result()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPausedError);
    expect((error as RunPausedError).reason).toBe("non_determinism");
    expect((error as Error).message).toContain(
      "ctx.deprecatePatch('score-with-model'), but this run passed that point on the code before the patch",
    );
    expect((error as Error).message).toContain("deprecated too early");
    expect(ran).not.toContain("d-old:by-model");
    expect(ran).not.toContain("d-old:ship");
    const marks = (await deprecated.journal("d-new")).filter((e) => e.type === "patch_applied");
    expect(marks.map((e) => e.data)).toEqual([{ deprecated: true }]);
  });

  it("refuses a patch id used at two places", async () => {
    const engine = await engineOn(join(tempDir(), "endure.db"), order("reused"));
    const run = await engine.start("order", { id: "r-1" }, { id: "r-1" });
    await expect(run.result()).rejects.toThrow(
      /patch id 'score-with-model' is used at two places \(.+ and .+\); a patch id marks one change/,
    );
  });
});
