// Proves the replay core as a pure function of (code, journal, clock, entropy), with no
// database: random workflow shapes cut at every journal prefix resume to the uninterrupted
// outcome without re-running a settled step, and divergence pauses with a precise error.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { workflow, type Workflow, type WorkflowContext } from "endure";
import type { JournalEntry, NewEntry } from "../../src/core/journal.js";
import { RunExecution } from "../../src/core/run-execution.js";
import type { RunOutcome } from "../../src/core/run-port.js";
import { MemoryPort } from "../../src/testing/memory-port.js";

function asJournal(entries: readonly NewEntry[]): JournalEntry[] {
  return entries.map((e, i) => ({ ...e, seq: i + 1, runId: "r" }));
}

async function execute(
  wf: Workflow<unknown, unknown>,
  journal: JournalEntry[],
  input: unknown = null,
) {
  const port = new MemoryPort();
  const execution = new RunExecution(wf, { runId: "r", input, journal }, port);
  const outcome: RunOutcome = await execution.outcome;
  port.commit();
  return {
    outcome,
    entries: [...journal.map(({ seq: _s, runId: _r, ...e }) => e), ...port.committed],
  };
}

type Shape =
  | { kind: "step"; name: string }
  | { kind: "all"; names: string[] }
  | { kind: "value" }
  | { kind: "sleep" };

const shapeArb: fc.Arbitrary<Shape[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("step" as const), name: fc.constantFrom("a", "b", "c") }),
    fc.record({
      kind: fc.constant("all" as const),
      names: fc.array(fc.constantFrom("p", "q"), { minLength: 2, maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant("value" as const) }),
    fc.record({ kind: fc.constant("sleep" as const) }),
  ),
  { minLength: 1, maxLength: 8 },
);

function shapedWorkflow(shape: Shape[], runs: Map<string, number>): Workflow<unknown, unknown> {
  const body = (key: string) => async () => {
    runs.set(key, (runs.get(key) ?? 0) + 1);
    await new Promise((r) => setImmediate(r));
    return key;
  };
  return workflow("shaped", async (ctx: WorkflowContext) => {
    const out: unknown[] = [];
    let n = 0;
    for (const op of shape) {
      n++;
      if (op.kind === "step") out.push(await ctx.step(op.name, body(`${op.name}@${n}`)));
      else if (op.kind === "all")
        out.push(
          await Promise.all(op.names.map((name, i) => ctx.step(name, body(`${name}@${n}.${i}`)))),
        );
      else if (op.kind === "value") ctx.random();
      else await ctx.sleep("nap", 0);
    }
    return out;
  });
}

describe("replay core", () => {
  it("resumes any journal prefix to the uninterrupted outcome, never re-running a settled step", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, async (shape) => {
        const full = await execute(shapedWorkflow(shape, new Map()), []);
        expect(full.outcome.kind).toBe("completed");
        const expected = full.outcome.kind === "completed" ? full.outcome.output : "";
        for (let cut = 1; cut <= full.entries.length; cut++) {
          const prefix = asJournal(full.entries.slice(0, cut));
          const runs = new Map<string, number>();
          const resumed = await execute(shapedWorkflow(shape, runs), prefix);
          expect(resumed.outcome).toMatchObject({ kind: "completed", output: expected });
          const settled = prefix
            .filter((e) => e.type === "step_succeeded")
            .map((e) => JSON.parse(e.data ?? "{}").result as string);
          for (const key of settled)
            expect(runs.get(key) ?? 0, `step ${key} re-ran after it settled`).toBe(0);
          const recorded = prefix.filter((e) => e.type === "value_recorded");
          const again = resumed.entries
            .filter((e) => e.type === "value_recorded")
            .slice(0, recorded.length);
          expect(again.map((e) => e.data)).toEqual(recorded.map((e) => e.data));
        }
      }),
      { numRuns: 60, seed: Number(process.env["FC_SEED"] ?? 20261123), verbose: true },
    );
  });

  it("hands concurrent results to the code in journal order on replay", async () => {
    const order: string[] = [];
    const wf = workflow("race", async (ctx) => {
      const slow = ctx.step("slow", async () => {
        await new Promise((r) => setTimeout(r, 20));
        return "slow";
      });
      const fast = ctx.step("fast", () => "fast");
      const first = await Promise.race([slow, fast]);
      order.push(first);
      await Promise.all([slow, fast]);
      return first;
    });
    const full = await execute(wf, []);
    expect(full.outcome).toMatchObject({ kind: "completed", output: '"fast"' });
    const replayed = await execute(
      wf,
      asJournal(full.entries.filter((e) => e.type !== "run_completed")),
    );
    expect(replayed.outcome).toMatchObject({ kind: "completed", output: '"fast"' });
    expect(order).toEqual(["fast", "fast"]);
  });

  it("pauses with NonDeterminismError naming run, position, both calls and their places", async () => {
    const v1 = workflow("shifty", async (ctx) => {
      await ctx.step("fetch", () => 1);
      return 1;
    });
    const v2 = workflow("shifty", async (ctx) => {
      await ctx.step("lookup", () => 1);
      return 1;
    });
    const full = await execute(v1, []);
    const diverged = await execute(v2, asJournal(full.entries.slice(0, 3)));
    expect(diverged.outcome.kind).toBe("paused");
    const reason = diverged.outcome.kind === "paused" ? diverged.outcome.reason : "";
    expect(reason).toContain("run r diverged from its journal at position 1");
    expect(reason).toContain("the journal recorded step 'fetch#1'");
    expect(reason).toContain("the code asked for step 'lookup#1'");
    expect(reason).toMatch(/The journal's call was made at .*replay\.test\.ts:\d+:\d+/);
    expect(reason).toMatch(/This call is at .*replay\.test\.ts:\d+:\d+/);
  });

  it("pauses when the code ends before asking for what the journal recorded", async () => {
    const v1 = workflow("longer", async (ctx) => {
      await ctx.step("one", () => 1);
      await ctx.step("two", () => 2);
      return 0;
    });
    const v2 = workflow("longer", async (ctx) => {
      await ctx.step("one", () => 1);
      return 0;
    });
    const full = await execute(v1, []);
    const withoutEnd = asJournal(full.entries.filter((e) => e.type !== "run_completed"));
    const diverged = await execute(v2, withoutEnd);
    expect(diverged.outcome.kind).toBe("paused");
    expect(diverged.outcome.kind === "paused" && diverged.outcome.reason).toContain(
      "the code asked for the end of the workflow",
    );
  });

  it("pauses when replayed code waits on something other than the recorded step", async () => {
    const v1 = workflow("stall", async (ctx) => {
      await ctx.step("one", () => 1);
      return 0;
    });
    const v2 = workflow("stall", async () => {
      await new Promise(() => {});
      return 0;
    });
    const full = await execute(v1, []);
    const diverged = await execute(v2, asJournal(full.entries.slice(0, 3)));
    expect(diverged.outcome.kind).toBe("paused");
    expect(diverged.outcome.kind === "paused" && diverged.outcome.reason).toContain(
      "never asked for it",
    );
  });

  it("knows when replay has matched without counting turns: slow cancellation set-up", async () => {
    const cleaned: string[] = [];
    const wf = workflow("cancelled", async (ctx) => {
      ctx.onCancel(async () => {
        await Promise.resolve();
        await ctx.step("undo", () => void cleaned.push("undo"));
      });
      await ctx.step("do", () => 1);
      await ctx.waitForEvent("reply", { event: "never.sent" });
      return 0;
    });
    const port = new MemoryPort();
    const first = new RunExecution(wf, { runId: "r", input: null, journal: [] }, port);
    while (!port.committed.some((e) => e.type === "wait_started"))
      await new Promise((r) => setImmediate(r));
    first.requestCancel({ reason: "stop", kind: "cancelled" });
    expect((await first.outcome).kind).toBe("cancelled");
    port.commit();
    // The store takes a hundred turns to end the waits: replay waits for the cleanup to ask.
    const slow = new MemoryPort();
    slow.cancelWaits = async () => {
      for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    };
    const journal = asJournal(port.committed);
    const replayed = await new RunExecution(wf, { runId: "r", input: null, journal }, slow).outcome;
    expect(replayed.kind).toBe("cancelled");
    expect(cleaned).toEqual(["undo"]);
  });

  it("fails a run that reaches its journal limit, and not one entry earlier", async () => {
    const loop = (steps: number) =>
      workflow("loop", async (ctx) => {
        for (let i = 0; i < steps; i++) await ctx.step("tick", () => i);
        return steps;
      });
    const port = new MemoryPort();
    Object.assign(port.limits, { journalEntriesMax: 5 });
    // run_started (1, from the journal) + 2 steps x 2 entries = 5 entries: exactly at the limit.
    const started: JournalEntry = {
      seq: 1,
      runId: "r",
      type: "run_started",
      at: 0,
      position: null,
      key: null,
      data: null,
    };
    const atLimit = await new RunExecution(
      loop(2),
      { runId: "r", input: null, journal: [started] },
      port,
    ).outcome;
    expect(atLimit.kind).toBe("completed");
    const over = await new RunExecution(
      loop(3),
      { runId: "r", input: null, journal: [started] },
      port,
    ).outcome;
    expect(over.kind).toBe("failed");
    expect(over.kind === "failed" && over.error).toContain(
      "reached its journal limit of 5 entries",
    );
  });
});
