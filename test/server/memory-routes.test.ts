// Proves the API's memory, query and update routes over real HTTP through endure/client:
// a key written by a run and by an operator (the token's name in its history), listed by
// prefix with a key holding a slash, a viewer refused a write; a query answered from a
// waiting run, an update delivered once per id, a validator's refusal as a 400.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually } from "../helpers.js";
import { failure, serve } from "./support.js";

const remember = workflow("remember", async (ctx, input: { customer: string }) => {
  await ctx.memory<string[]>("customer", input.customer).update((n) => [...(n ?? []), "hi"]);
  return "ok";
});

const order = workflow("order", async (ctx, input: { address: string }) => {
  let address = input.address;
  ctx.onQuery("address", () => address);
  ctx.onUpdate("address", (next: string) => (address = next), {
    validate: (next) => (typeof next === "string" && next.includes("@")) || "not an e-mail address",
  });
  await ctx.approval("ship", { title: "Ship?" });
  return address;
});

describe("memory, query and update routes", () => {
  it("reads, lists, writes and shows the history of memory keys", async () => {
    const s = await serve({ workflows: [remember] });
    const run = await s.engine.start(remember, { customer: "42/notes" }, { id: "r1" });
    await run.result();
    const written = await s.operator.setMemory("customer", "42/notes", ["corrected"]);
    expect(written).toMatchObject({ version: 2, by: "otto@example.com", value: ["corrected"] });
    expect(await s.viewer.memory("customer", "42/notes")).toMatchObject({
      key: "42/notes",
      version: 2,
      value: ["corrected"],
    });
    expect(await s.viewer.memory("customer", "missing")).toBeNull();
    const history = await s.viewer.memoryHistory("customer", "42/notes");
    expect(history.map((h) => [h.version, h.runId, h.by])).toEqual([
      [2, null, "otto@example.com"],
      [1, "r1", null],
    ]);
    await s.operator.setMemory("customer", "7", 1);
    const page = await s.viewer.memoryKeys("customer", { prefix: "4" });
    expect(page.keys.map((k) => k.key)).toEqual(["42/notes"]);
    expect((await s.viewer.memoryKeys("customer", { limit: 1 })).next).toBe("42/notes");
    expect(await s.viewer.memoryNamespaces()).toEqual([
      expect.objectContaining({ namespace: "customer", keys: 2 }),
    ]);
    expect(await failure(s.viewer.setMemory("customer", "7", 2))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    expect(
      await failure(s.operator.setMemory("customer", "big", "x".repeat(300 * 1024))),
    ).toMatchObject({ status: 413, code: "payload_too_large" });
  });

  it("answers a query and delivers an update once, refusing a bad one with 400", async () => {
    const s = await serve({ workflows: [order], worker: { inMemoryWait: 10 } });
    await s.engine.start(order, { address: "a@b.c" }, { id: "o1" });
    await eventually(async () => (await s.engine.getRun("o1"))?.status === "waiting");
    expect(await s.viewer.query("o1", "address")).toBe("a@b.c");
    expect(await failure(s.operator.update("o1", "address", "nowhere"))).toMatchObject({
      status: 400,
      code: "update_rejected",
    });
    expect(await s.operator.update("o1", "address", "d@e.f", { id: "u1" })).toBe("d@e.f");
    expect(await s.operator.update("o1", "address", "d@e.f", { id: "u1" })).toBe("d@e.f");
    expect(await s.viewer.query("o1", "address")).toBe("d@e.f");
    expect(await failure(s.viewer.query("o1", "nothing"))).toMatchObject({
      status: 404,
      code: "query_not_found",
    });
    expect(await failure(s.viewer.update("o1", "address", "x@y.z"))).toMatchObject({
      status: 403,
    });
    const journal = await s.engine.journal("o1");
    expect(journal.filter((e) => e.key === "endure.update u1#1")).toHaveLength(2);
  });
});
