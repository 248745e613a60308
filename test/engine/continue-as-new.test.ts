// Proves ctx.continueAsNew on real SQLite and real PostgreSQL: a loop of 10,000 iterations
// that continues as new every 100 keeps what a resume reads and replays bounded by one
// segment (counted at the store: the entries each claim hands the worker, and the steps the
// code is handed from the journal), while engine.journal keeps every segment numbered; the
// journal-length limit counts per segment; a run failed by the limit still undoes its steps.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createEngine,
  isEndureError,
  workflow,
  type Engine,
  type EngineOptions,
  type Store,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const ITERATIONS = 10_000;
const PER_SEGMENT = 100;

/** Steps the code was handed from the journal (replayed), and run live, in this process. */
const counts = { replayedSteps: 0, liveSteps: 0 };

const loop = workflow(
  "endless-loop",
  async (ctx, input: { from: number; total: number; gate: boolean }) => {
    const end = Math.min(input.from + PER_SEGMENT, input.total);
    let sum = 0;
    for (let i = input.from; i < end; i++) {
      let live = false;
      sum += await ctx.step("tick", () => {
        live = true;
        return i;
      });
      if (live) counts.liveSteps++;
      else counts.replayedSteps++;
    }
    if (end < input.total) return ctx.continueAsNew({ ...input, from: end });
    // The last segment waits, so that a fresh engine resumes it from the store.
    if (input.gate) await ctx.waitForSignal("go", { timeout: "1h" });
    return { last: end, sum };
  },
);

/** A store that counts the entries handed to workers for replay (claims, segment reads). */
function counting(inner: Store): { store: Store; reads: number[] } {
  const reads: number[] = [];
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      if (name === "readJournal") {
        return async (runId: string, range?: "all" | "segment") => {
          const entries = await target.readJournal(runId, range);
          if (range === "segment") reads.push(entries.length);
          return entries;
        };
      }
      if (name === "claim") {
        return async (request: Parameters<Store["claim"]>[0]) => {
          const claimed = await target.claim(request);
          for (const c of claimed) if (c.journal !== undefined) reads.push(c.journal.length);
          return claimed;
        };
      }
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store, reads };
}

const stores: Array<[string, () => Promise<() => Store>]> = [
  [
    "SQLite",
    async () => {
      const path = join(tempDir(), "endure.db");
      return () => sqliteStore(path, { durability: "process" });
    },
  ],
  [
    "PostgreSQL",
    async () => {
      const url = await freshDatabase();
      return () => postgresStore(url);
    },
  ],
];

describe.each(stores)("continue as new on %s", (_name, makeStore) => {
  const open = async (
    reopen: () => Store,
    extra: Partial<EngineOptions> = {},
  ): Promise<{ engine: Engine; reads: number[] }> => {
    const { store, reads } = counting(reopen());
    const engine = await createEngine({
      store,
      workflows: [loop, saga, bounded],
      logger: { warn: () => {} },
      gcSchedule: null,
      ...extra,
    });
    onCleanup(() => engine.close());
    return { engine, reads };
  };

  it("keeps replay bounded over 10,000 iterations, and every segment in the journal", async () => {
    const reopen = await makeStore();
    const first = await open(reopen);
    await first.engine.start(loop, { from: 0, total: ITERATIONS, gate: true }, { id: "endless" });
    await eventually(
      async () => (await first.engine.getRun("endless"))?.status === "waiting",
      240_000,
      "the last segment waiting",
    );
    await first.engine.close();

    // A fresh engine resumes the waiting run: it reads and replays its newest segment only.
    counts.replayedSteps = 0;
    counts.liveSteps = 0;
    const second = await open(reopen);
    await second.engine.signal("endless", "go", {});
    const handle = second.engine.handle<{ last: number; sum: number }>("endless");
    expect(await handle.result()).toEqual({
      last: ITERATIONS,
      // The last segment's sum: ITERATIONS - 100 to ITERATIONS - 1.
      sum: ((2 * ITERATIONS - PER_SEGMENT - 1) * PER_SEGMENT) / 2,
    });
    expect(counts.liveSteps).toBe(0);
    expect(counts.replayedSteps).toBe(PER_SEGMENT);
    expect(second.reads.length).toBeGreaterThan(0);
    // One segment: its run_continued, 100 steps (a start and a success each, read back as
    // two entries), the wait, its suspension, and little more.
    for (const n of second.reads) expect(n).toBeLessThanOrEqual(2 * PER_SEGMENT + 10);

    const all = await second.engine.journal("endless");
    const steps = all.filter((e) => e.type === "step_succeeded");
    expect(steps).toHaveLength(ITERATIONS);
    expect(all.length).toBeGreaterThan(2 * ITERATIONS);
    const segments = ITERATIONS / PER_SEGMENT;
    expect(all.filter((e) => e.type === "run_continued")).toHaveLength(segments - 1);
    expect(all[0]?.segment).toBe(1);
    expect(all[all.length - 1]?.segment).toBe(segments);
    // Keys stay unique across segments: `tick#1` in the first, `tick#1@2` in the second, ...
    expect(new Set(steps.map((e) => e.key)).size).toBe(ITERATIONS);
    expect(steps[PER_SEGMENT]?.key).toBe("tick#1@2");
    // Positions go on from one segment to the next.
    const positions = steps.map((e) => e.position ?? 0);
    expect(positions.every((p, i) => i === 0 || p > (positions[i - 1] ?? 0))).toBe(true);
    // While it ran, no claim ever handed a worker more than one segment.
    for (const n of first.reads) expect(n).toBeLessThanOrEqual(2 * PER_SEGMENT + 10);
    const explained = await second.engine.explain("endless");
    expect(explained.status).toBe("completed");
  }, 300_000);

  it("the journal limit counts per segment, and its error suggests ctx.continueAsNew", async () => {
    const reopen = await makeStore();
    const { engine } = await open(reopen, { limits: { journalEntriesMax: 60 } });
    // 25 steps a segment (about 51 entries with the segment's start) fit under 60.
    const ok = await engine.start(bounded, { from: 0, total: 200, perSegment: 25 });
    expect(await ok.result()).toBe(200);
    const journal = await engine.journal(ok.id);
    expect(journal.length).toBeGreaterThan(400);
    // 40 steps in one segment do not.
    const long = await engine.start(bounded, { from: 0, total: 40, perSegment: 40 });
    const error = await long.result().catch((e: unknown) => e);
    expect(isEndureError(error, "journal_too_long")).toBe(true);
    expect((error as Error).message).toContain("ctx.continueAsNew(input)");
    expect((error as Error).message).toContain("60 entries");
  });

  it("a run failed by the journal limit still undoes its steps, newest first", async () => {
    const reopen = await makeStore();
    const { engine } = await open(reopen, { limits: { journalEntriesMax: 30 } });
    const run = await engine.start(saga, {});
    const error = await run.result().catch((e: unknown) => e);
    expect(isEndureError(error, "journal_too_long")).toBe(true);
    const journal = await engine.journal(run.id);
    const limit = journal.findIndex((e) => e.type === "run_limit_reached");
    expect(limit).toBeGreaterThan(0);
    const undone = journal
      .filter((e) => e.type === "step_succeeded" && e.key?.startsWith("undo "))
      .map((e) => e.key);
    expect(undone).toEqual(["undo reserve#1", "undo charge#1"]);
    const undoAt = journal.findIndex((e) => e.key === "undo reserve#1");
    expect(undoAt).toBeGreaterThan(limit);
    expect(journal[journal.length - 1]?.type).toBe("run_failed");
  });
});

const bounded = workflow(
  "bounded-loop",
  async (ctx, input: { from: number; total: number; perSegment: number }) => {
    const end = Math.min(input.from + input.perSegment, input.total);
    for (let i = input.from; i < end; i++) await ctx.step("n", () => i);
    if (end < input.total) return ctx.continueAsNew({ ...input, from: end });
    return end;
  },
);

const saga = workflow("limit-saga", async (ctx) => {
  await ctx.step("charge", () => "c-1", { compensate: () => "refunded" });
  await ctx.step("reserve", () => "r-1", { compensate: () => "released" });
  for (let i = 0; ; i++) await ctx.step("spin", () => i);
});

describe("continue as new: bad input", () => {
  it("is refused inside a step body, with undos registered, and for inputs that cannot be kept", async () => {
    const path = join(tempDir(), "endure.db");
    const seen: Record<string, string> = {};
    const inStep = workflow("cont-in-step", async (ctx) => {
      await ctx.step("body", async () => {
        await ctx.continueAsNew({});
      });
      return "unreachable";
    });
    const withUndo = workflow("cont-with-undo", async (ctx) => {
      await ctx.step("charge", () => 1, { compensate: () => 0 });
      try {
        await ctx.continueAsNew({});
      } catch (e) {
        seen.undo = `${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
      return "went on";
    });
    const badValue = workflow("cont-bad-value", async (ctx) => {
      try {
        await ctx.continueAsNew({ f: () => 1 });
      } catch (e) {
        seen.serialize = (e as { code?: string }).code ?? "";
      }
      try {
        await ctx.continueAsNew("x".repeat(3 * 1024 * 1024));
      } catch (e) {
        seen.size = (e as { code?: string }).code ?? "";
      }
      return "went on";
    });
    const schema = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: (value: unknown) =>
          typeof (value as { n?: unknown }).n === "number"
            ? { value: value as { n: number } }
            : { issues: [{ message: "n must be a number" }] },
      },
    };
    const checked = workflow(
      "cont-checked",
      async (ctx, input: { n: number }) => {
        if (input.n > 0) return input.n;
        try {
          await ctx.continueAsNew({ n: "one" });
        } catch (e) {
          seen.schema = (e as { code?: string }).code ?? "";
        }
        return ctx.continueAsNew({ n: 1 });
      },
      { input: schema },
    );
    const engine = await createEngine({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [inStep, withUndo, checked, badValue],
      logger: { warn: () => {} },
      gcSchedule: null,
    });
    onCleanup(() => engine.close());

    const a = await engine.start(inStep, {});
    const error = await a.result().catch((e: unknown) => e);
    expect(isEndureError(error, "continue_refused")).toBe(true);
    expect((error as Error).message).toContain("inside a step body");
    // Refused at once, not retried: one attempt.
    const attempts = (await engine.journal(a.id)).filter((e) => e.type === "step_attempt_started");
    expect(attempts).toHaveLength(1);

    const b = await engine.start(withUndo, {});
    expect(await b.result()).toBe("went on");
    expect(seen.undo).toMatch(/^continue_refused: .*undos registered \(charge\).*ctx\.invoke/);
    expect((await engine.journal(b.id)).some((e) => e.type === "run_continued")).toBe(false);
    const d = await engine.start(badValue, {});
    expect(await d.result()).toBe("went on");
    expect(seen.serialize).toBe("value_not_serializable");
    expect(seen.size).toBe("payload_too_large");
    expect((await engine.journal(d.id)).some((e) => e.type === "run_continued")).toBe(false);

    const c = await engine.start(checked, { n: 0 });
    expect(await c.result()).toBe(1);
    expect(seen.schema).toBe("input_invalid");
    const journal = await engine.journal(c.id);
    expect(journal.filter((e) => e.type === "run_continued")).toHaveLength(1);
    expect(journal.find((e) => e.type === "run_continued")?.data).toMatchObject({
      segment: 2,
      input: { n: 1 },
    });
    // getRun keeps the input the run was started with.
    expect((await engine.getRun(c.id))?.input).toEqual({ n: 0 });
  });
});
