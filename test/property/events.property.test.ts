// Proves by random traffic (fast-check, seed printed) on a real SQLite store that the event
// matcher delivers each event to each wait it matches once and loses none across retention:
// runs wait for events by key, events arrive before or after their wait, duplicated, with
// unrelated events between, and retention deletes spent events and finished runs in between.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestEngine } from "endure/testing";
import { propertySeed } from "./seed.js";

const waiter = workflow("waiter", async (ctx, input: { key: number; waits: number }) => {
  const got: unknown[] = [];
  for (let i = 0; i < input.waits; i++) {
    const e = await ctx.waitForEvent(`w${i}`, {
      event: "ping",
      match: { "data.key": input.key },
      timeout: "30d",
    });
    got.push(e?.data ?? null);
  }
  return got;
});

type Action =
  { kind: "send"; run: number; n: number; dup: boolean } | { kind: "gc" } | { kind: "noise" };

describe("event matching properties", () => {
  it("delivers every event once to the wait it matches, across retention", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.oneof(fc.constant("gc" as const), fc.constant("noise" as const)), {
          maxLength: 6,
        }),
        fc.infiniteStream(fc.nat()),
        async (waits, extras, order) => {
          const t = await createTestEngine({ workflows: [waiter], retention: "1h" });
          try {
            const sends: Action[] = waits.flatMap((w, run) =>
              Array.from({ length: w }, (_, n) => ({
                kind: "send" as const,
                run,
                n,
                dup: n % 2 === 0,
              })),
            );
            const actions: Action[] = [...sends, ...extras.map((k) => ({ kind: k }))];
            // Shuffle, keeping each run's events in order: the n-th event answers the n-th wait.
            const it = order[Symbol.iterator]();
            const shuffled: Action[] = [];
            const pool = [...actions];
            while (pool.length > 0) {
              const pick = (it.next().value as number) % pool.length;
              const [a] = pool.splice(pick, 1);
              shuffled.push(a!);
            }
            const next = new Map<number, number>();
            const runs = async () =>
              Promise.all(
                waits.map((w, run) => t.start(waiter, { key: run, waits: w }, { id: `r${run}` })),
              );
            // Events count from a run's start: the runs start first, their waits begin later.
            const handles = await runs();
            // Results are awaited from the start: retention may delete a run once it has ended.
            const results = handles.map((h) => h.result());
            for (const r of results) r.catch(() => {});
            for (const a of shuffled) {
              if (a.kind === "gc") {
                await t.advance("2h");
                await t.gc();
              } else if (a.kind === "noise") await t.event("ping", { key: -1 });
              else {
                const n = next.get(a.run) ?? 0;
                next.set(a.run, n + 1);
                const id = `e-${a.run}-${n}`;
                await t.event("ping", { key: a.run, n }, id);
                if (a.dup)
                  expect((await t.event("ping", { key: a.run, n }, id)).created).toBe(false);
              }
            }
            for (const [run, r] of results.entries())
              expect(await r).toEqual(
                Array.from({ length: waits[run]! }, (_, n) => ({ key: run, n })),
              );
          } finally {
            await t.close();
          }
        },
      ),
      { seed: propertySeed("events"), numRuns: 15 },
    );
  }, 240_000);
});
