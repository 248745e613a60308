// Proves sagas on real SQLite: the `compensate` undos of a failed run's succeeded steps run
// newest first, each once, as journaled steps given the step's result, and the run ends with
// its original error; a cancelled run undoes its steps the same way; an undo that keeps
// failing leaves the run failed with both errors; and bad options are refused.
import { describe, expect, it } from "vitest";
import { isEndureError, NonRetriableError, workflow } from "endure";
import { eventually, sqliteEngine } from "../helpers.js";

const undoneOrder = (journal: Array<{ type: string; key: string | null }>) =>
  journal
    .filter((e) => e.type === "step_succeeded" && e.key?.startsWith("undo "))
    .map((e) => e.key);

describe("compensation", () => {
  it("undoes the succeeded steps newest first when the run fails, and ends with the original error", async () => {
    const undone: string[] = [];
    const trip = workflow("trip", async (ctx) => {
      const book = (name: string) =>
        ctx.step(name, () => `${name}-ref`, {
          compensate: (ref) => {
            undone.push(ref);
            return `cancelled ${ref}`;
          },
        });
      await book("flight");
      await book("hotel");
      await ctx.step("no compensate", () => 1);
      await book("car");
      await ctx.step("pay", () => {
        throw new NonRetriableError("card declined");
      });
      return "booked";
    });
    const engine = await sqliteEngine({ workflows: [trip] });
    const run = await engine.start(trip, undefined);
    const error = await run.result().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("NonRetriableError");
    expect(error?.message).toBe("card declined");
    expect(undone).toEqual(["car-ref", "hotel-ref", "flight-ref"]);
    const journal = await engine.journal(run.id);
    expect(undoneOrder(journal)).toEqual(["undo car#1", "undo hotel#1", "undo flight#1"]);
    expect(journal.at(-1)?.type).toBe("run_failed");
  });

  it("undoes the succeeded steps newest first when the run is cancelled", async () => {
    const undone: string[] = [];
    const order = workflow("order", async (ctx) => {
      await ctx.step("reserve", () => "stock", { compensate: () => void undone.push("stock") });
      await ctx.step("charge", () => "money", { compensate: () => void undone.push("money") });
      await ctx.waitForEvent("shipped", { event: "order.shipped" });
      return "done";
    });
    const engine = await sqliteEngine({ workflows: [order] });
    const run = await engine.start(order, undefined);
    await eventually(async () =>
      (await engine.journal(run.id)).some((e) => e.type === "wait_started"),
    );
    await engine.cancel(run.id, "customer changed their mind");
    await expect(run.result()).rejects.toMatchObject({ code: "run_cancelled" });
    expect(undone).toEqual(["money", "stock"]);
    const journal = await engine.journal(run.id);
    expect(undoneOrder(journal)).toEqual(["undo charge#1", "undo reserve#1"]);
    expect(journal.at(-1)?.type).toBe("run_cancelled");
  });

  it("retries an undo that fails, runs the others, and fails the run with both errors", async () => {
    let attempts = 0;
    const flaky = workflow("flaky-undo", async (ctx) => {
      await ctx.step("a", () => "a", { compensate: () => "undid a" });
      await ctx.step("b", () => "b", {
        compensate: () => {
          attempts++;
          throw new NonRetriableError("refund service down");
        },
      });
      throw new Error("shipping failed");
    });
    const engine = await sqliteEngine({ workflows: [flaky] });
    const run = await engine.start(flaky, undefined);
    const error = await run.result().then(
      () => null,
      (e: unknown) => e as Error & { cause?: Error },
    );
    expect(isEndureError(error, "compensation_failed")).toBe(true);
    expect(error?.message).toContain("shipping failed");
    expect(error?.message).toContain("undo b: refund service down");
    expect(attempts).toBe(1);
    const journal = await engine.journal(run.id);
    expect(journal.filter((e) => e.type === "step_failed").map((e) => e.key)).toEqual(["undo b#1"]);
    expect(undoneOrder(journal)).toEqual(["undo a#1"]);
  });

  it("finishes its undos when cancelled while undoing, and ends failed with the original error", async () => {
    const undone: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let undoing!: () => void;
    const inUndo = new Promise<void>((r) => (undoing = r));
    const saga = workflow("cancel-mid-undo", async (ctx) => {
      await ctx.step("a", () => "a", { compensate: () => void undone.push("a") });
      await ctx.step("b", () => "b", {
        compensate: async () => {
          undoing();
          await released;
          undone.push("b");
        },
      });
      await ctx.step("c", () => {
        throw new NonRetriableError("out of stock");
      });
    });
    const engine = await sqliteEngine({ workflows: [saga] });
    const run = await engine.start(saga, undefined);
    await inUndo;
    await engine.cancel(run.id, "too late: it is undoing");
    release();
    const error = await run.result().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe("out of stock");
    expect(undone).toEqual(["b", "a"]);
    const journal = await engine.journal(run.id);
    expect(undoneOrder(journal)).toEqual(["undo b#1", "undo a#1"]);
    expect(journal.at(-1)?.type).toBe("run_failed");
    expect(journal.filter((e) => e.type === "run_cancel_requested")).toEqual([]);
  });

  it("undoes nothing when the workflow catches the failure and completes", async () => {
    let undone = 0;
    const caught = workflow("caught", async (ctx) => {
      await ctx.step("a", () => 1, { compensate: () => void undone++ });
      try {
        await ctx.step("b", () => {
          throw new NonRetriableError("no");
        });
      } catch {
        return "recovered";
      }
      return "unreachable";
    });
    const engine = await sqliteEngine({ workflows: [caught] });
    expect(await engine.start(caught, undefined).then((r) => r.result())).toBe("recovered");
    expect(undone).toBe(0);
  });

  it("refuses a compensate that is not a function, and one on a transactional step", async () => {
    const bad = workflow("bad-compensate", async (ctx) => {
      const out: string[] = [];
      for (const attempt of [
        () => ctx.step("x", () => 1, { compensate: "nope" as unknown as () => void }),
        () =>
          ctx.step("y", () => 1, {
            transactional: true,
            compensate: () => undefined,
          } as never),
      ]) {
        try {
          await attempt();
        } catch (e) {
          out.push(isEndureError(e, "invalid_argument") ? (e as Error).message : String(e));
        }
      }
      return out;
    });
    const engine = await sqliteEngine({ workflows: [bad] });
    const out = await engine.start(bad, undefined).then((r) => r.result());
    expect(out).toEqual([
      "step 'x' compensate must be a function",
      expect.stringContaining("step 'y' is transactional"),
    ]);
  });
});
