// Proves what a caller waiting on a run gets when it pauses on non-determinism, on a real SQLite
// file: result() rejects with RunPausedError carrying the divergence (on the engine executing
// it and on a client engine polling the store), explain shows the pause, and after the code
// is fixed a new result() is answered with the output.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isEndureError, workflow, type NonDeterminismError } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

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

describe("a paused run's result", () => {
  it("rejects with RunPausedError carrying the divergence, and can be awaited again after a fix", async () => {
    const path = join(tempDir(), "paused.db");
    const clock = createTestClock();
    const first = await sqliteEngine({ path, workflows: [original], clock });
    await first.start(original, undefined, { id: "p-1" });
    await eventually(async () => (await first.getRun("p-1"))?.status === "waiting");
    await first.close();

    const second = await sqliteEngine({ path, workflows: [changed], clock });
    const client = await sqliteEngine({ path, workflows: [changed], worker: false, clock });
    const waiting = second.handle("p-1").result();
    const polling = client.handle("p-1").result();
    const settled = Promise.allSettled([waiting, polling]);
    await clock.advance("1d");
    const outcomes = await settled;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as Error & {
        reason: string;
        runId: string;
        cause: NonDeterminismError;
      };
      expect(isEndureError(error, "run_paused"), String(error)).toBe(true);
      expect(error.name).toBe("RunPausedError");
      expect(error.runId).toBe("p-1");
      expect(error.reason).toBe("non_determinism");
      expect(error.message).toContain("recorded step 'research#1'");
      expect(error.cause.code).toBe("non_determinism");
      expect(error.cause.position).toBe(1);
    }
    // A caller arriving after the pause is told at once too.
    await expect(client.handle("p-1").result()).rejects.toMatchObject({ code: "run_paused" });
    const explained = await client.explain("p-1");
    expect(explained.state.kind).toBe("paused");
    expect(explained.sentence).toContain("no longer matches its journal");
    await second.close();

    const third = await sqliteEngine({ path, workflows: [original], clock });
    expect(await client.handle("p-1").result()).toBe("mailed acme");
    expect((await third.getRun("p-1"))?.status).toBe("completed");
  });
});
