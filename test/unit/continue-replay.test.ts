// Replay of journals with segments and with a journal limit reached, in memory: a run that
// continued as new replays only its newest segment, with that segment's input and positions;
// a run that reached its journal limit with undos registered, recovered from every point of
// its journal after the limit, runs each undo once, newest first, and never a step of before.
import { describe, expect, it } from "vitest";
import { workflow, type Workflow } from "endure";
import type { JournalEntry, NewEntry } from "../../src/core/journal.js";
import { RunExecution } from "../../src/core/run-execution.js";
import { journalForReplay } from "../../src/core/retry-journal.js";
import type { RunOutcome } from "../../src/core/run-port.js";
import { segmentInput } from "../../src/core/segments.js";
import { MemoryPort } from "../../src/testing/memory-port.js";

const started: NewEntry = { type: "run_started", at: 0, position: null, key: null, data: null };

function asJournal(entries: readonly NewEntry[]): JournalEntry[] {
  return entries.map((e, i) => ({ ...e, seq: i + 1, runId: "r" }));
}

async function execute<I, O>(
  wf: Workflow<I, O>,
  journal: JournalEntry[],
  input: unknown,
  limit?: number,
): Promise<{ outcome: RunOutcome; entries: NewEntry[] }> {
  const port = new MemoryPort();
  if (limit !== undefined) Object.assign(port.limits, { journalEntriesMax: limit });
  const replayed = journalForReplay(journal);
  const execution = new RunExecution(
    wf as unknown as Workflow<unknown, unknown>,
    { runId: "r", input: segmentInput(replayed, () => input), journal: replayed },
    port,
  );
  const outcome = await execution.outcome;
  port.commit();
  return { outcome, entries: [...port.committed, ...("entry" in outcome ? [outcome.entry] : [])] };
}

describe("segments on replay", () => {
  it("replays only the newest segment, with its input, positions and keys", async () => {
    const ran: number[] = [];
    const wf = workflow("seg", async (ctx, input: { n: number }) => {
      const got = await ctx.step("s", () => {
        ran.push(input.n);
        return input.n * 10;
      });
      if (input.n < 3) return ctx.continueAsNew({ n: input.n + 1 });
      return got;
    });
    let journal = asJournal([started]);
    const outcomes: string[] = [];
    for (;;) {
      const { outcome, entries } = await execute(wf, journal, { n: 1 });
      outcomes.push(outcome.kind);
      journal = asJournal([...journal, ...entries]);
      if (outcome.kind !== "continued") break;
    }
    expect(outcomes).toEqual(["continued", "continued", "completed"]);
    expect(ran).toEqual([1, 2, 3]);
    const steps = journal.filter((e) => e.type === "step_succeeded");
    expect(steps.map((e) => [e.position, e.key])).toEqual([
      [1, "s#1"],
      [2, "s#1@2"],
      [3, "s#1@3"],
    ]);
    // A replay of the whole journal reads the newest segment only and runs nothing again.
    const before = journal.slice(0, -1);
    const again = await execute(wf, before, { n: 1 });
    expect(ran).toEqual([1, 2, 3]);
    expect(again.outcome.kind).toBe("completed");
  });
});

describe("journal limit with undos", () => {
  const undone: string[] = [];
  const spun: number[] = [];
  const saga = workflow("saga", async (ctx) => {
    await ctx.step("charge", () => "c", { compensate: () => void undone.push("charge") });
    await ctx.step("reserve", () => "r", { compensate: () => void undone.push("reserve") });
    for (let i = 0; ; i++) {
      ctx.now();
      await ctx.step("spin", () => void spun.push(i));
    }
  });
  // Each limit makes another entry the one past it: a recorded value, a step's start, its end.
  it.each([9, 10, 11, 12, 13, 14])(
    "undoes newest first after a limit of %i, and a recovery from any later point does it once",
    async (LIMIT) => {
      undone.length = 0;
      const first = await execute(saga, asJournal([started]), null, LIMIT);
      expect(first.outcome.kind).toBe("failed");
      expect(first.outcome.kind === "failed" && first.outcome.error).toContain("journal limit");
      expect(undone).toEqual(["reserve", "charge"]);
      const full = asJournal([started, ...first.entries]);
      const marker = full.findIndex((e) => e.type === "run_limit_reached");
      expect(marker).toBeGreaterThan(0);
      // Every entry before the marker fits under the limit.
      expect(marker).toBeLessThanOrEqual(LIMIT);
      const spinsBefore = spun.length;
      // Recover from every prefix from just before the marker to just before the end.
      for (let cut = marker; cut < full.length; cut++) {
        undone.length = 0;
        spun.length = 0;
        const prefix = full.slice(0, cut);
        const { outcome, entries } = await execute(saga, prefix, null, LIMIT);
        if (outcome.kind === "paused")
          console.log(
            full.map((e) => `${e.type} ${e.position} ${e.key}`).join("\n"),
            outcome.reason,
          );
        expect(outcome.kind, `recovered from ${cut} entries`).toBe("failed");
        const whole = [...prefix, ...entries];
        const undos = whole.filter((e) => e.type === "step_succeeded" && e.key?.startsWith("undo"));
        expect(
          undos.map((e) => e.key),
          `recovered from ${cut} entries`,
        ).toEqual(["undo reserve#1", "undo charge#1"]);
        expect(whole.filter((e) => e.type === "run_limit_reached")).toHaveLength(1);
        // After the marker, nothing of before the limit runs again.
        if (cut > marker) expect(spun, `recovered from ${cut} entries`).toEqual([]);
      }
      expect(spinsBefore).toBeGreaterThan(0);
    },
  );
});
