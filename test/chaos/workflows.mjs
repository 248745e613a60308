// The workflows of the chaos harness and the outcome an uninterrupted run of each gives.
// Every plain step body is "keyed": it logs its start and end (with a fresh token that its
// result carries) to a log outside the engine, and writes an effect keyed by its
// idempotency key into a side database, the way a payment API deduplicates by key. Every
// run ends with a transactional step that inserts one row into the engine's own database.
//
// The log is one file that every worker appends whole lines to (O_APPEND), so the lines of
// all processes interleave in one global order the checker can reason about. Fields are
// separated by tabs: step keys may hold spaces (`tool note#1`).
import { appendFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { workflow } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";

/** Names of the kinds of runs the harness starts, each a workflow below. */
export const KINDS = [
  "seq",
  "par",
  "sleepy",
  "evented",
  "signalled",
  "approved",
  "agent",
  "triggered",
];

/** The note tool's input, as a Standard Schema written by hand: workers start often, and a
 * schema library would cost each start more than the rest of the worker. */
const NOTE_INPUT = {
  "~standard": {
    version: 1,
    vendor: "chaos",
    validate: (value) =>
      typeof value?.x === "number" ? { value } : { issues: [{ message: "x must be a number" }] },
  },
};
const NOTE_JSON_SCHEMA = { type: "object", properties: { x: { type: "number" } }, required: ["x"] };

/** Step options that ride out injected store faults. */
const STEP = { retries: 50, backoff: { initial: "5ms", max: "100ms" } };
/** Longest wait for an event, a signal or an approval the harness always sends. */
const WAIT = { timeout: "30m" };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** The table the side database keeps keyed effects in (the checker reads it). */
export const SIDE_TABLE_SQL =
  "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, run_id TEXT NOT NULL, n INTEGER NOT NULL)";
/** The table transactional steps write to, in the engine's own database. */
export const TX_TABLE_SQL = "CREATE TABLE IF NOT EXISTS chaos_tx (run_id TEXT NOT NULL)";

/**
 * The chaos workflows for one worker process. `logPath` is the execution log, `sidePath`
 * the side database of keyed effects, `worker` a name that goes into log lines.
 */
export function chaosWorkflows({ logPath, sidePath, worker }) {
  let side = null;
  const sideDb = () => {
    if (side === null) {
      side = new Database(sidePath, { timeout: 10_000 });
      side.pragma("journal_mode = WAL");
    }
    return side;
  };
  const log = (line) => appendFileSync(logPath, `${line}\n`);

  /** A keyed body: logged before and after, its effect written once per idempotency key. */
  const keyed =
    (value) =>
    async ({ idempotencyKey, runId }) => {
      const token = randomUUID();
      log(`start\t${idempotencyKey}\t${token}\t${worker}`);
      await pause(Math.random() * 4);
      sideDb()
        .prepare("INSERT OR IGNORE INTO effects (key, run_id, n) VALUES (?, ?, ?)")
        .run(idempotencyKey, runId, value);
      log(`end\t${idempotencyKey}\t${token}\t${worker}`);
      // Room for a kill between the effect and its commit.
      await pause(Math.random() * 3);
      return { value, token };
    };

  /** The last step of every run: one row in the engine's database, exactly once. */
  const finish = (ctx) =>
    ctx.step(
      "outcome",
      async ({ tx }) => {
        const sql = `INSERT INTO chaos_tx (run_id) VALUES (${tx.dialect === "sqlite" ? "?" : "$1"})`;
        await tx.execute(sql, [ctx.runId]);
        return "posted";
      },
      { ...STEP, transactional: true },
    );

  const seq = workflow("chaos.seq", async (ctx, input) => {
    let sum = 0;
    for (let i = 1; i <= input.n; i++) sum += (await ctx.step("work", keyed(i), STEP)).value;
    await finish(ctx);
    return { sum };
  });

  const par = workflow("chaos.par", async (ctx, input) => {
    const parts = await Promise.all(
      Array.from({ length: input.n }, (_, i) => ctx.step(`part${i}`, keyed(i + 1), STEP)),
    );
    await ctx.sleep("gap", "20ms");
    await finish(ctx);
    return { sum: parts.reduce((s, p) => s + p.value, 0) };
  });

  const sleepy = workflow("chaos.sleepy", async (ctx, input) => {
    await ctx.step("before", keyed(1), STEP);
    await ctx.sleep("nap", input.sleepMs);
    await ctx.step("after", keyed(2), STEP);
    await finish(ctx);
    return { slept: input.sleepMs };
  });

  const evented = workflow("chaos.evented", async (ctx) => {
    await ctx.step("before", keyed(1), STEP);
    const event = await ctx.waitForEvent("ping", {
      event: "chaos.ping",
      match: { "data.run": ctx.runId },
      ...WAIT,
    });
    await ctx.step("after", keyed(2), STEP);
    await finish(ctx);
    return { got: event === null ? null : event.data.v, eventId: event?.id ?? null };
  });

  const signalled = workflow("chaos.signalled", async (ctx) => {
    await ctx.step("before", keyed(1), STEP);
    const signal = await ctx.waitForSignal("go", WAIT);
    await finish(ctx);
    return { got: signal === null ? null : signal.data.v };
  });

  const approved = workflow("chaos.approved", async (ctx) => {
    await ctx.step("before", keyed(1), STEP);
    const decision = await ctx.approval("ok", { title: "Go on?", ...WAIT });
    if (decision.approved) await ctx.step("after", keyed(2), STEP);
    await finish(ctx);
    return { approved: decision.approved };
  });

  const triggered = workflow(
    "chaos.triggered",
    async (ctx, event) => {
      await ctx.step("work", keyed(1), STEP);
      await finish(ctx);
      return { v: event.data.v };
    },
    { on: "chaos.trigger" },
  );

  const scout = agent("chaos.agent", {
    model: scriptedModel([{ toolCalls: [{ name: "note", input: { x: 7 } }] }, "noted"]),
    system: "You take notes.",
    tools: {
      note: tool({
        description: "Takes a note",
        input: NOTE_INPUT,
        inputJsonSchema: NOTE_JSON_SCHEMA,
        run: async ({ x }, { idempotencyKey, runId }) => keyed(x)({ idempotencyKey, runId }),
        ...STEP,
      }),
    },
    maxTurns: 4,
  });

  return [seq, par, sleepy, evented, signalled, approved, triggered, scout];
}

/** The workflow name of a kind. */
export function workflowOf(kind) {
  return `chaos.${kind}`;
}

/** What an uninterrupted run of `kind` with `input` returns (agents: their text). */
export function expectedOutput(kind, input) {
  switch (kind) {
    case "seq":
    case "par":
      return { sum: (input.n * (input.n + 1)) / 2 };
    case "sleepy":
      return { slept: input.sleepMs };
    case "evented":
      return { got: input.v, eventId: input.eventId };
    case "signalled":
      return { got: input.v };
    case "approved":
      return { approved: input.approve };
    case "triggered":
      return { v: input.v };
    case "agent":
      return "noted";
    default:
      throw new Error(`unknown chaos kind ${kind}`);
  }
}
