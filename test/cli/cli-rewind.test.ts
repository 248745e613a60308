// `endure runs rewind` and `endure runs fork` on a SQLite file opened directly: the rewound
// run and the fork are journaled with the CLI as who did it, a fork takes its edited output
// (JSON), and a step that is not in the journal exits non-zero naming the error's code.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let quoted = 0;
const quote = workflow("quote", async (ctx) => {
  const price = await ctx.step("price", () => {
    quoted++;
    return { amount: 10 };
  });
  return ctx.step("offer", () => `offer at ${price.amount}`);
});

describe("endure runs rewind and fork", () => {
  it("rewinds an ended run and forks one with an edited output", { timeout: 120_000 }, async () => {
    const path = join(tempDir(), "cli.db");
    const first = await sqliteEngine({ path, workflows: [quote] });
    expect(await (await first.start(quote, {}, { id: "q-1" })).result()).toBe("offer at 10");
    await first.close();

    const rewound = cli(["runs", "rewind", "q-1", "--to-step", "offer", "--store", path]);
    expect(rewound.status, rewound.stderr).toBe(0);
    expect(rewound.stdout.trim()).toBe("rewound run q-1: pending");
    const forked = cli([
      "runs",
      "fork",
      "q-1",
      "--at-step",
      "1",
      "--output",
      '{"amount":99}',
      "--id",
      "q-1-what-if",
      "--store",
      path,
      "--json",
    ]);
    expect(forked.status, forked.stderr).toBe(0);
    expect(JSON.parse(forked.stdout)).toMatchObject({ id: "q-1-what-if", status: "pending" });
    const missing = cli(["runs", "fork", "q-1", "--at-step", "nope", "--store", path]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("[position_not_found]");

    const engine = await sqliteEngine({ path, workflows: [quote] });
    await eventually(async () => (await engine.getRun("q-1"))?.status === "completed");
    expect(await engine.handle("q-1-what-if").result()).toBe("offer at 99");
    expect(quoted).toBe(1);
    const journal = await engine.journal("q-1");
    expect(journal.find((e) => e.type === "run_rewound")?.data).toEqual({
      by: "cli",
      step: "offer#1",
      position: 2,
    });
    const fork = await engine.journal("q-1-what-if");
    expect(fork.find((e) => e.type === "run_forked")?.data).toMatchObject({
      by: "cli",
      from: "q-1",
      edited: true,
    });
  });
});
