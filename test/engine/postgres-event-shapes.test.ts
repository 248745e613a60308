// An event sent while its sender's process learns a new match shape, on PostgreSQL. A batch
// of events is planned with the shapes the process knows, then reads the shapes registered in
// the store under the name's lock; a commit of the same process (a worker creating the first
// wait of that shape) can teach the process the shape in between. The batch must then plan
// again with the shape's keys, or it stores the event without delivering it to a wait that
// is already open: the run waits for an event it was sent (seen about 9 times in 10 here
// before the fix, with two engines on one database each starting runs and sending at once).
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Engine } from "endure";
import { postgresStore } from "endure/postgres";
import { onCleanup } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

function orderVersion(version: string) {
  return workflow(
    "order",
    async (ctx, input: { id: string }) => {
      await ctx.step("reserve", () => `reserved ${input.id}`);
      await ctx.waitForEvent("go", {
        event: "order.go",
        match: { "data.id": input.id },
        timeout: "1h",
      });
      return `shipped by version ${version}`;
    },
    { version },
  );
}
const v1 = orderVersion("1");
const v2 = orderVersion("2");

async function open(url: string, version: typeof v1, workerId: string): Promise<Engine> {
  const engine = await createEngine({
    store: postgresStore(url),
    logger: { warn: () => {} },
    gcSchedule: null,
    workflows: [version],
    worker: { inMemoryWait: "0s", pollInterval: "20ms", workerId },
  });
  onCleanup(() => engine.close());
  return engine;
}

/** Long enough for every run to end when each event meets its wait. */
const RESULT_MS = 8_000;

describe("events on PostgreSQL while a process learns a match shape", () => {
  it.each([0, 1, 2, 3, 4])(
    "delivers every event to its open wait (round %i)",
    async (round) => {
      // A new database each round: both processes start knowing no shape.
      const url = await freshDatabase();
      const old = await open(url, v1, `old-${round}`);
      const young = await open(url, v2, `young-${round}`);
      const runs = await Promise.all(
        [1, 2, 3, 4].flatMap((n) => [
          old.start(v1, { id: `r${round}-${n}-1` }, { id: `r${round}-${n}-1` }),
          young.start(v2, { id: `r${round}-${n}-2` }, { id: `r${round}-${n}-2` }),
        ]),
      );
      // Sent at once, while the workers create the waits (some before, some after).
      await Promise.all(
        runs.map(async (run, i) => {
          await new Promise((r) => setTimeout(r, (i * 7 + round * 3) % 40));
          await (i % 2 === 0 ? young : old).sendEvent({ name: "order.go", data: { id: run.id } });
        }),
      );
      const stuck: string[] = [];
      await Promise.all(
        runs.map(async (run) => {
          const ended = await Promise.race([
            run.result().then(() => true),
            new Promise<false>((r) => setTimeout(() => r(false), RESULT_MS)),
          ]);
          if (!ended)
            stuck.push(`${run.id}: ${JSON.stringify((await young.explain(run.id)).state)}`);
        }),
      );
      expect(stuck, "runs still waiting for an event they were sent").toEqual([]);
      for (const run of runs) {
        const version = run.id.endsWith("-1") ? "1" : "2";
        expect(await run.result()).toBe(`shipped by version ${version}`);
      }
    },
    30_000,
  );
});
