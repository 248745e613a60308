// Proves endure's logs are structured JSON lines through pino with the run id, workflow,
// worker, step and attempt on them at the documented levels; that the 0.1 `{ warn }` logger
// still gets warnings; and that a logger that throws never breaks a run.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { workflow, type Logger } from "endure";
import { sqliteEngine } from "../helpers.js";

function memoryLogger(level = "debug") {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const flaky = () => {
  let calls = 0;
  return workflow("logged", async (ctx) => {
    await ctx.step("once", () => "ok");
    return ctx.step(
      "flaky",
      () => {
        if (calls++ === 0) throw new Error("the first call fails");
        return calls;
      },
      { retries: 1, backoff: { initial: 1, max: 1 } },
    );
  });
};

const PINO_LEVELS: Record<number, string> = { 20: "debug", 30: "info", 40: "warn", 50: "error" };

describe("logs", () => {
  it("writes JSON lines with run id, workflow, worker, step and attempt", async () => {
    const { logger, lines } = memoryLogger();
    const wf = flaky();
    const engine = await sqliteEngine({ workflows: [wf], logger });
    const run = await engine.start(wf, undefined, { id: "logged-1" });
    expect(await run.result()).toBe(2);
    const mine = lines.filter((l) => l["runId"] === "logged-1");
    for (const line of mine) {
      expect(line).toMatchObject({ workflow: "logged", worker: engine.workerId });
    }
    const byMsg = (msg: string) => mine.filter((l) => l["msg"] === msg);
    expect(byMsg("run started").map((l) => PINO_LEVELS[l["level"] as number])).toEqual(["info"]);
    const failed = byMsg("step attempt failed; it will be retried");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: 30,
      step: "flaky#1",
      attempt: 1,
      error: { name: "Error", message: "the first call fails" },
    });
    expect(byMsg("step succeeded").map((l) => [l["step"], l["attempt"], l["level"]])).toEqual([
      ["once#1", 1, 20],
      ["flaky#1", 2, 20],
    ]);
    expect(byMsg("run completed")).toMatchObject([{ level: 30, status: "completed" }]);
  });

  it("gives the 0.1 { warn } logger its warnings as text", async () => {
    const warnings: string[] = [];
    const wf = workflow("fails", async (ctx) =>
      ctx.step(
        "boom",
        () => {
          throw new Error("kaput");
        },
        { retries: 0 },
      ),
    );
    const engine = await sqliteEngine({
      workflows: [wf],
      logger: { warn: (m) => warnings.push(m) },
    });
    await expect((await engine.start(wf, undefined)).result()).rejects.toThrow("kaput");
    expect(warnings.some((w) => w.startsWith("step failed"))).toBe(true);
  });

  it("keeps running when the logger throws at every level", async () => {
    const throwing = (): never => {
      throw new Error("logger down");
    };
    const broken: Logger = {
      debug: throwing,
      info: throwing,
      warn: throwing,
      error: throwing,
      child: throwing,
    };
    for (const logger of [broken, { warn: throwing }]) {
      const wf = flaky();
      const engine = await sqliteEngine({ workflows: [wf], logger });
      expect(await (await engine.start(wf, undefined)).result()).toBe(2);
    }
  });
});
