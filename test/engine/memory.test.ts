// Proves durable keyed memory on real SQLite files: reads and writes are journaled and a
// replay sees what the first execution saw; a write commits with its journal entry; runs
// updating one key at once lose nothing; the engine reads, writes, lists and shows history
// from outside a run; a value at the size limit is kept and one byte over it is refused;
// retention deletes a namespace's stale keys only.
import { describe, expect, it } from "vitest";
import { isEndureError, limits, workflow } from "endure";
import { createTestClock } from "endure/testing";
import { sqliteEngine } from "../helpers.js";

describe("durable memory", () => {
  it("journals reads and writes, and a replay after eviction sees what the first execution saw", async () => {
    let updates = 0;
    const wf = workflow("remember", async (ctx, input: { customer: string }) => {
      const profile = ctx.memory<{ visits: number }>("customer", input.customer);
      const before = await profile.get();
      const after = await profile.update((p) => {
        updates++;
        return { visits: (p?.visits ?? 0) + 1 };
      });
      // Long enough to evict: the rest of the run is a replay.
      await ctx.sleep("pause", 300);
      const seen = await profile.get();
      return { before, after, seen };
    });
    const engine = await sqliteEngine({ workflows: [wf], worker: { inMemoryWait: 10 } });
    const run = await engine.start(wf, { customer: "42" }, { id: "r1" });
    // While the run sleeps, someone else changes the key.
    await expect
      .poll(async () => (await engine.getRun("r1"))?.status, { timeout: 5_000 })
      .toBe("waiting");
    await engine.memory("customer", "42").set({ visits: 100 }, { by: "maria@acme.io" });
    const output = await run.result();
    // Replayed after eviction: the first two operations answer from the journal.
    expect(output).toEqual({ before: undefined, after: { visits: 1 }, seen: { visits: 100 } });
    expect(updates).toBe(1);
    const journal = await engine.journal("r1");
    expect(journal.map((e) => e.type)).toContain("run_suspended");
    const memory = journal.filter((e) => e.type.startsWith("memory_"));
    expect(memory.map((e) => [e.type, e.key])).toEqual([
      ["memory_read", "customer/42:get#1"],
      ["memory_written", "customer/42:update#1"],
      ["memory_read", "customer/42:get#2"],
    ]);
    expect(memory[1]?.data).toMatchObject({ namespace: "customer", key: "42", version: 1 });
    const history = await engine.memory("customer", "42").history();
    expect(history.map((h) => [h.version, h.value, h.runId, h.by])).toEqual([
      [2, { visits: 100 }, null, "maria@acme.io"],
      [1, { visits: 1 }, "r1", null],
    ]);
    expect(history[1]?.position).toBe(memory[1]?.position);
    expect(await engine.memory("customer", "42").info()).toMatchObject({
      version: 2,
      runId: null,
      by: "maria@acme.io",
    });
  });

  it("loses no update when many runs update one key at once", async () => {
    const wf = workflow("count", async (ctx, input: { n: number }) => {
      const counter = ctx.memory<number>("counters", "shared");
      for (let i = 0; i < input.n; i++) {
        await counter.update((c) => (c ?? 0) + 1);
        await ctx.step("between", () => i);
      }
      return "done";
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => engine.start(wf, { n: 10 }, { id: `c${i}` })),
    );
    // And from outside, at the same time.
    const outside = Array.from({ length: 20 }, () =>
      engine.memory<number>("counters", "shared").update((c) => (c ?? 0) + 1),
    );
    await Promise.all([...runs.map((r) => r.result()), ...outside]);
    expect(await engine.memory("counters", "shared").get()).toBe(8 * 10 + 20);
    expect((await engine.memory("counters", "shared").info())?.version).toBe(100);
    // Every version was seen by exactly one writer.
    const written = (await Promise.all(runs.map(async (r) => engine.journal(r.id)))).flatMap((j) =>
      j
        .filter((e) => e.type === "memory_written")
        .map((e) => (e.data as { version: number }).version),
    );
    expect(new Set(written).size).toBe(80);
  });

  it("keeps a value at the size limit and refuses one byte more, committing nothing", async () => {
    // A JSON string of n characters is n + 2 bytes serialized.
    const atLimit = "x".repeat(limits.MEMORY_VALUE_BYTES_MAX - 2);
    const wf = workflow("big", async (ctx, input: { extra: number }) => {
      const m = ctx.memory<string>("docs", "one");
      try {
        await m.set(atLimit + "y".repeat(input.extra));
        return "kept";
      } catch (e) {
        return isEndureError(e, "payload_too_large") ? e.message : "other";
      }
    });
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, { extra: 0 })).result()).toBe("kept");
    expect((await engine.memory<string>("docs", "one").get())?.length).toBe(atLimit.length);
    const refused = await (await engine.start(wf, { extra: 1 })).result();
    expect(refused).toMatch(/over the limit of 262144 bytes \(MEMORY_VALUE_BYTES_MAX\)/);
    expect((await engine.memory("docs", "one").info())?.version).toBe(1);
    await expect(engine.memory("docs", "one").set(atLimit + "y")).rejects.toMatchObject({
      code: "payload_too_large",
    });
    await expect(engine.memory("docs", "one").set(() => 1)).rejects.toMatchObject({
      code: "value_not_serializable",
    });
  });

  it("journals a failed update, so a replay throws the same error without calling it again", async () => {
    let calls = 0;
    const wf = workflow("fails", async (ctx) => {
      const m = ctx.memory<number>("n", "k");
      let message = "";
      try {
        await m.update(() => {
          calls++;
          throw new Error("no such tier");
        });
      } catch (e) {
        message = (e as Error).message;
      }
      await ctx.sleep("pause", 200);
      return message;
    });
    const engine = await sqliteEngine({ workflows: [wf], worker: { inMemoryWait: 10 } });
    expect(await (await engine.start(wf, undefined, { id: "f1" })).result()).toBe("no such tier");
    expect(calls).toBe(1);
    expect((await engine.journal("f1")).map((e) => e.type)).toContain("memory_failed");
    expect(await engine.memory("n", "k").info()).toBeNull();
  });

  it("lists keys by prefix in pages, lists namespaces, and refuses bad names", async () => {
    const engine = await sqliteEngine({ workflows: [] });
    for (const key of ["a/1", "a/2", "a/3", "b/1", "a"]) await engine.memory("ns", key).set(key);
    await engine.memory("other", "x").set(1);
    const first = await engine.memory("ns").list({ prefix: "a/", limit: 2 });
    expect(first.keys.map((k) => k.key)).toEqual(["a/1", "a/2"]);
    expect(first.next).toBe("a/2");
    const second = await engine.memory("ns").list({ prefix: "a/", after: first.next ?? "" });
    expect(second.keys.map((k) => [k.key, k.value])).toEqual([["a/3", "a/3"]]);
    expect(second.next).toBeNull();
    expect((await engine.memory("ns").list()).keys).toHaveLength(5);
    expect((await engine.memoryNamespaces()).map((n) => [n.namespace, n.keys])).toEqual([
      ["ns", 5],
      ["other", 1],
    ]);
    expect(() => engine.memory("a/b", "k")).toThrow(/must not contain '\/'/);
    expect(() => engine.memory("ns", "")).toThrow(/memory key must be a non-empty string/);
    expect(() => engine.memory("ns", "k".repeat(limits.MEMORY_KEY_LENGTH_MAX + 1))).toThrow(
      /limit is 512/,
    );
    expect(() => engine.memory("ns", "k".repeat(limits.MEMORY_KEY_LENGTH_MAX))).not.toThrow();
    await expect(engine.memory("ns").list({ limit: 1_001 })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("keeps the last writes of a key in its history, up to the limit", async () => {
    const engine = await sqliteEngine({ workflows: [] });
    const key = engine.memory<number>("h", "k");
    for (let i = 1; i <= limits.MEMORY_HISTORY_PER_KEY_MAX + 5; i++) await key.set(i);
    const history = await key.history({ limit: 1_000 });
    expect(history).toHaveLength(limits.MEMORY_HISTORY_PER_KEY_MAX);
    expect(history[0]?.version).toBe(limits.MEMORY_HISTORY_PER_KEY_MAX + 5);
    expect(history.at(-1)?.version).toBe(6);
  });

  it("deletes keys of a namespace with retention once stale, and keeps others", async () => {
    const clock = createTestClock();
    const engine = await sqliteEngine({
      workflows: [],
      clock,
      memoryRetention: { session: "7d" },
    });
    await engine.memory("session", "old").set(1);
    await engine.memory("profile", "old").set(1);
    await clock.advance("6d");
    await engine.memory("session", "fresh").set(2);
    await clock.advance("2d");
    const result = await engine.gc();
    expect(result.memory).toBe(1);
    expect(await engine.memory("session", "old").info()).toBeNull();
    expect(await engine.memory("session", "old").history()).toEqual([]);
    expect(await engine.memory("session", "fresh").get()).toBe(2);
    expect(await engine.memory("profile", "old").get()).toBe(1);
    await expect(
      sqliteEngine({ workflows: [], memoryRetention: { session: "soon" } }),
    ).rejects.toMatchObject({ code: "invalid_argument" });
  });
});
