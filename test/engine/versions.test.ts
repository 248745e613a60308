// Versions that mean something, on SQLite and on PostgreSQL: several versions of a workflow
// registered side by side, a run pinned to the version it started on (also among workers that
// register only one of them), new runs on the newest version or a chosen default, and a run
// whose version is gone paused with the reason and a way out (resume on a named version, or
// cancel), never run on other code by itself.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createEngine,
  DuplicateWorkflowError,
  InvalidArgumentError,
  RunPausedError,
  workflow,
  WorkflowNotFoundError,
  type Engine,
  type EngineOptions,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { compareVersions } from "../../src/engine/registry.js";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

/** Step bodies executed, by step name: proves which version's code ran. */
const ran = new Map<string, number>();
const count = (name: string) => ran.set(name, (ran.get(name) ?? 0) + 1);

function orderVersion(version: string) {
  return workflow(
    "order",
    async (ctx, input: { id: string; sleepMs?: number }) => {
      await ctx.step("reserve", () => `reserved ${input.id}`);
      if (input.sleepMs !== undefined) await ctx.sleep("nap", input.sleepMs);
      else {
        await ctx.waitForEvent("go", {
          event: "order.go",
          match: { "data.id": input.id },
          timeout: "1h",
        });
      }
      await ctx.step(`ship-v${version}`, () => count(`${input.id}:ship-v${version}`));
      return `shipped by version ${version}`;
    },
    { version },
  );
}
const v1 = orderVersion("1");
const v2 = orderVersion("2");

type Open = (options: Omit<EngineOptions, "store">) => Promise<Engine>;

/** Opens engines on one store (a SQLite file, or a PostgreSQL database), closed after the test. */
async function storeFor(kind: "sqlite" | "postgres"): Promise<Open> {
  const where = kind === "sqlite" ? join(tempDir(), "endure.db") : await freshDatabase();
  return async (options) => {
    const engine = await createEngine({
      store:
        kind === "sqlite" ? sqliteStore(where, { durability: "process" }) : postgresStore(where),
      logger: { warn: () => {} },
      gcSchedule: null,
      ...options,
      // Waits leave memory at once, so that every wake-up is a claim by some worker.
      worker: { inMemoryWait: "0s", pollInterval: "20ms", ...(options.worker as object) },
    });
    onCleanup(() => engine.close());
    return engine;
  };
}

describe.each(["sqlite", "postgres"] as const)("workflow versions on %s", (kind) => {
  it("finishes a run on the version it started on after a newer one is deployed beside it", async () => {
    const open = await storeFor(kind);
    const old = await open({ workflows: [v1] });
    // The run sleeps past the old engine's close and wakes on the new one.
    const started = await old.start(
      "order",
      { id: `${kind}-a`, sleepMs: 300 },
      { id: `${kind}-a` },
    );
    await eventually(async () => (await started.info()).status === "waiting");
    await old.close();

    const both = await open({ workflows: [v1, v2] });
    const first = both.handle<string>(started.id);
    const second = await both.start("order", { id: `${kind}-b` }, { id: `${kind}-b` });
    expect((await second.info()).version, "new runs take the newest version").toBe("2");
    await eventually(async () => (await second.info()).status === "waiting");
    await both.sendEvent({ name: "order.go", data: { id: `${kind}-b` } });
    expect(await first.result()).toBe("shipped by version 1");
    expect(await second.result()).toBe("shipped by version 2");
    expect((await first.info()).version).toBe("1");
    expect(ran.get(`${kind}-a:ship-v1`)).toBe(1);
    expect(ran.get(`${kind}-a:ship-v2`)).toBeUndefined();
  });

  it("hands each run to a worker of its version when workers register one version each", async () => {
    const open = await storeFor(kind);
    const old = await open({ workflows: [v1], worker: { workerId: `${kind}-old` } });
    const young = await open({ workflows: [v2], worker: { workerId: `${kind}-new` } });
    const ids = [1, 2, 3].map((n) => `${kind}-mixed-${n}`);
    const runs = await Promise.all(
      ids.flatMap((id) => [
        old.start(v1, { id: `${id}-1` }, { id: `${id}-1` }),
        young.start(v2, { id: `${id}-2` }, { id: `${id}-2` }),
      ]),
    );
    for (const run of runs) await eventually(async () => (await run.info()).status === "waiting");
    // The wake-ups come through the new worker's engine: either worker may see them first.
    for (const run of runs) await young.sendEvent({ name: "order.go", data: { id: run.id } });
    for (const run of runs) {
      const version = run.id.endsWith("-1") ? "1" : "2";
      expect(await run.result()).toBe(`shipped by version ${version}`);
      expect(ran.get(`${run.id}:ship-v${version}`)).toBe(1);
      const journal = await young.journal(run.id);
      expect(journal.filter((e) => e.type === "run_paused")).toEqual([]);
    }
  });

  it("pauses a run whose version is gone, with the reason, and resumes it on a named version", async () => {
    const open = await storeFor(kind);
    const old = await open({ workflows: [v1] });
    const orphan = await old.start(v1, { id: `${kind}-o` }, { id: `${kind}-o` });
    const doomed = await old.start(v1, { id: `${kind}-d` }, { id: `${kind}-d` });
    for (const run of [orphan, doomed])
      await eventually(async () => (await run.info()).status === "waiting");
    await old.close();

    const young = await open({ workflows: [v2], worker: { versionGrace: "0s" } });
    await young.sendEvent({ name: "order.go", data: { id: `${kind}-o` } });
    await young.sendEvent({ name: "order.go", data: { id: `${kind}-d` } });
    const paused = young.handle<string>(orphan.id);
    await eventually(async () => (await paused.info()).status === "paused");
    const error = await paused.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPausedError);
    expect((error as RunPausedError).reason).toBe("version_missing");
    expect((error as Error).message).toContain(
      "pinned to version '1' of workflow 'order', which no worker registers",
    );
    expect((error as Error).message).toContain('engine.resume(runId, { version: "2" })');
    expect((await young.explain(orphan.id)).state).toMatchObject({
      kind: "paused",
      reason: "version_missing",
    });
    expect(ran.get(`${kind}-o:ship-v1`)).toBeUndefined();
    expect(ran.get(`${kind}-o:ship-v2`)).toBeUndefined();

    await expect(young.resume(orphan.id, { version: "1" })).rejects.toThrow(
      /this engine registers versions '2'; name one of them/,
    );
    await young.resume(orphan.id, { version: "2" });
    expect(await paused.result()).toBe("shipped by version 2");
    expect((await paused.info()).version).toBe("2");
    const resumed = (await young.journal(orphan.id)).find(
      (e) => e.type === "run_resumed" && (e.data as { version?: string } | null)?.version === "2",
    );
    expect(resumed?.data).toMatchObject({ by: "request", version: "2" });

    await eventually(async () => (await young.getRun(doomed.id))?.status === "paused");
    await young.cancel(doomed.id, "version 1 is retired");
    expect((await young.getRun(doomed.id))?.status).toBe("cancelled");
    expect(ran.get(`${kind}-d:ship-v2`)).toBeUndefined();
  });
});

describe("registering versions", () => {
  it("refuses a version registered twice, and starts runs on the newest or the chosen default", async () => {
    const store = () => sqliteStore(join(tempDir(), "endure.db"));
    await expect(
      createEngine({ store: store(), workflows: [v1, orderVersion("1")] }),
    ).rejects.toThrow(DuplicateWorkflowError);
    await expect(
      createEngine({ store: store(), workflows: [v1], defaultVersions: { order: "3" } }),
    ).rejects.toThrow(InvalidArgumentError);
    const engine = await createEngine({
      store: store(),
      workflows: [v2, v1],
      defaultVersions: { order: "1" },
      worker: false,
      logger: { warn: () => {} },
    });
    onCleanup(() => engine.close());
    expect((await (await engine.start("order", { id: "x" })).info()).version).toBe("1");
    expect((await (await engine.start(v2, { id: "y" })).info()).version).toBe("2");
    const worker = await createEngine({
      store: store(),
      workflows: [v1],
      logger: { warn: () => {} },
      gcSchedule: null,
    });
    onCleanup(() => worker.close());
    await expect(worker.start(v2, { id: "z" })).rejects.toThrow(WorkflowNotFoundError);
    await expect(worker.start(v2, { id: "z" })).rejects.toThrow(
      "version '2' of workflow 'order' is not registered on this engine (its registered versions: '1')",
    );
  });

  it("orders versions as text with numbers in them", () => {
    const sorted = ["10", null, "2", "1.10", "1.9", "1"].sort(compareVersions);
    expect(sorted).toEqual([null, "1", "1.9", "1.10", "2", "10"]);
  });
});
