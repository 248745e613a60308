// Proves every string that enters a store (run ids, workflow, step and wait names, event names
// and ids, keys, decisions) is checked once at the engine's boundary on real SQLite and real
// PostgreSQL: a lone UTF-16 surrogate or a NUL is refused with invalid_argument naming what
// was wrong, an approval comment is bounded and must be a string, and the runs around a
// refused one go on.
import { describe, expect, it } from "vitest";
import { isEndureError, limits, workflow, type Engine, type EngineOptions } from "endure";
import { eventually, sqliteEngine } from "../helpers.js";
import { postgresEngine } from "../support/postgres.js";

type Make = (options: Omit<EngineOptions, "store">) => Promise<Engine>;
const stores: Array<[string, Make]> = [
  ["sqlite", (o) => sqliteEngine(o)],
  ["postgres", (o) => postgresEngine(o)],
];

const codeOf = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(isEndureError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return "accepted";
};

const HIGH = "\uD83D"; // the first half of an emoji, alone
const LOW = "\uDE00"; // the second half, alone

describe.each(stores)("strings entering the store on %s", (_store, make) => {
  const echo = workflow("echo", async (ctx, input: { n: number }) =>
    ctx.step("double", () => input.n * 2),
  );

  it("refuses run ids with a lone surrogate or a NUL, and goes on claiming others", async () => {
    const engine = await make({ workflows: [echo] });
    for (const id of [`lead-${HIGH}`, `lead-${LOW}`, `x${LOW}${HIGH}`, "a\u0000b"]) {
      expect(await codeOf(engine.start(echo, { n: 1 }, { id })), JSON.stringify(id)).toBe(
        "invalid_argument",
      );
    }
    const emoji = await engine.start(echo, { n: 2 }, { id: "lead-\uD83D\uDE00" });
    expect(await emoji.result()).toBe(4);
    expect((await engine.getRun("lead-\uD83D\uDE00"))?.status).toBe("completed");
    expect(await codeOf(engine.getRun(`lead-${HIGH}`))).toBe("invalid_argument");
    expect((await engine.health()).ok).toBe(true);
  });

  it("refuses a NUL among 20 starts without refusing the 19 good ones", async () => {
    const engine = await make({ workflows: [echo] });
    const ids = Array.from({ length: 20 }, (_, i) => (i === 7 ? "bad\u0000id" : `good-${i}`));
    const outcomes = await Promise.allSettled(
      ids.map((id, n) => engine.start(echo, { n }, { id })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(19);
    const refused = outcomes[7] as PromiseRejectedResult;
    expect(isEndureError(refused.reason, "invalid_argument")).toBe(true);
    expect((refused.reason as Error).message).toContain("NUL character at index 3");
    for (const [n, o] of outcomes.entries()) {
      if (o.status === "fulfilled") expect(await o.value.result()).toBe(n * 2);
    }
  });

  it("fails a run whose step name holds a lone surrogate or a NUL; other runs are untouched", async () => {
    const cut = workflow("cut-name", async (ctx, input: { name: string }) =>
      ctx.step(input.name, () => "ran"),
    );
    const engine = await make({ workflows: [cut, echo] });
    const good = await Promise.all(
      Array.from({ length: 10 }, (_, n) => engine.start(echo, { n }, { id: `ok-${n}` })),
    );
    const bad = [
      await engine.start(cut, { name: `summary ${HIGH}` }),
      await engine.start(cut, { name: "summary\u0000" }),
    ];
    for (const run of bad) {
      const error = await run.result().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isEndureError(error, "invalid_argument"), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/step name .*(lone UTF-16 surrogate|NUL)/);
    }
    for (const [n, run] of good.entries()) expect(await run.result()).toBe(n * 2);
  });

  it("refuses names, event ids and keys that cannot be stored as they are", async () => {
    const engine = await make({ workflows: [echo] });
    expect(await codeOf(() => workflow(`w${HIGH}`, async () => 1))).toBe("invalid_argument");
    expect(await codeOf(() => workflow("w\u0000", async () => 1))).toBe("invalid_argument");
    expect(await codeOf(() => workflow("w", async () => 1, { version: "1\u0000" }))).toBe(
      "invalid_argument",
    );
    expect(await codeOf(engine.sendEvent({ name: `e${LOW}`, data: 1 }))).toBe("invalid_argument");
    expect(await codeOf(engine.sendEvent({ name: "e", data: 1, id: `id${HIGH}` }))).toBe(
      "invalid_argument",
    );
    expect(await codeOf(engine.sendEvent({ name: "e", data: 1, id: "i\u0000d" }))).toBe(
      "invalid_argument",
    );
    const run = await engine.start(echo, { n: 1 });
    await run.result();
    expect(await codeOf(engine.signal(run.id, "s\u0000", 1))).toBe("invalid_argument");
    expect(await codeOf(engine.cancel(`r${HIGH}`))).toBe("invalid_argument");
    expect(await codeOf(engine.journal("r\u0000"))).toBe("invalid_argument");
    // Strings that are whole, however odd, are stored and read back as they were.
    const odd = "名前 \uD83D\uDE00 \u200B\uFEFF tab\t";
    expect((await engine.sendEvent({ name: "e", data: odd, id: odd })).created).toBe(true);
    expect((await engine.sendEvent({ name: "e", data: odd, id: odd })).created).toBe(false);
  });

  it("checks approval decisions: a comment must be a string of bounded length", async () => {
    const gate = workflow("gate", async (ctx) => {
      const d = await ctx.approval("ship", { title: "Ship it?" });
      return { approved: d.approved, comment: d.comment };
    });
    const engine = await make({ workflows: [gate] });
    const run = await engine.start(gate, undefined);
    await eventually(async () => (await engine.approvals({ runId: run.id }))[0]);
    const huge = "x".repeat(20 * 1024 * 1024);
    expect(await codeOf(engine.approve(run.id, "ship", { by: "ann", comment: huge }))).toBe(
      "invalid_argument",
    );
    const object = { why: "an object" } as unknown as string;
    expect(await codeOf(engine.approve(run.id, "ship", { by: "ann", comment: object }))).toBe(
      "invalid_argument",
    );
    expect(await codeOf(engine.approve(run.id, "ship", { by: `ann${HIGH}` }))).toBe(
      "invalid_argument",
    );
    const edge = "y".repeat(limits.COMMENT_LENGTH_MAX);
    expect(await codeOf(engine.approve(run.id, "ship", { by: "ann", comment: `${edge}y` }))).toBe(
      "invalid_argument",
    );
    // Nothing of the refused decisions was recorded: the approval is still open, and the
    // longest comment accepted is journaled whole.
    expect(await engine.approve(run.id, "ship", { by: "ann", comment: edge })).toBe("settled");
    expect(await run.result()).toEqual({ approved: true, comment: edge });
  });
});
