// `endure replay` and `endure check` as a CI and a deploy pipeline use them, with real
// processes: a journal file replays with unchanged code and diverges with changed code; the
// deploy gate classifies a store's runs in flight (compatible, diverges, orphaned) in text and
// JSON with exit code 5, and a store it cannot reach exits 6; export --replayable writes a
// file that replay reads.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, sqliteEngine, tempDir } from "../helpers.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const NEW_CODE = new URL("../fixtures/evolve-workflows.mjs", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/journals/", import.meta.url).pathname;

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
}

const waiting = (name: string, version?: string) =>
  workflow(
    name,
    async (ctx) => {
      await ctx.step("prepare", () => 1);
      await ctx.waitForEvent("go", { event: "gate.go", timeout: "1d" });
      return "done";
    },
    version === undefined ? {} : { version },
  );

describe("replay checks from the command line", () => {
  it("replays a journal file: an unchanged workflow passes, a changed one is flagged", () => {
    const same = cli([
      "replay",
      "--workflows",
      join(FIXTURES, "workflows.ts"),
      "--journal",
      join(FIXTURES, "steps.jsonl"),
    ]);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain("compatible");
    const changed = cli([
      "replay",
      "--workflows",
      NEW_CODE,
      "--journal",
      join(FIXTURES, "steps.jsonl"),
      "--json",
    ]);
    expect(changed.status, changed.stderr).toBe(5);
    const report = JSON.parse(changed.stdout) as { runs: Array<Record<string, unknown>> };
    expect(report.runs[0]).toMatchObject({
      kind: "diverges",
      position: 2,
      recorded: "step 'flaky#1'",
      asked: "step 'flaky-renamed#1'",
    });
    expect(report.runs[0]?.["askedSite"]).toMatch(/evolve-workflows\.mjs:\d+:\d+/);
    const cut = join(tempDir(), "cut.jsonl");
    writeFileSync(
      cut,
      '{"seq":1,"type":"run_started","at":1,"position":null,"key":null,"data":"{\\"work',
    );
    const bad = cli(["replay", "--workflows", NEW_CODE, "--journal", cut]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("line 1 is not JSON");
  });

  it("classifies every run in flight in a store, and refuses a store it cannot reach", async () => {
    const path = join(tempDir(), "endure.db");
    const engine = await sqliteEngine({
      path,
      workflows: [
        waiting("gate"),
        waiting("reorder"),
        waiting("retire", "1"),
        workflow("quick", async () => "quick"),
      ],
    });
    for (const name of ["gate", "reorder", "retire"]) {
      const run = await engine.start(name, undefined, { id: `${name}-1` });
      await eventually(async () => (await run.info()).status === "waiting");
    }
    // A finished run is not in flight: its workflow may be gone from the new code.
    const done = await engine.start("quick", undefined, { id: "quick-1" });
    expect(await done.result()).toBe("quick");
    const exported = cli(["export", "reorder-1", "--replayable", "--store", path]);
    expect(exported.status, exported.stderr).toBe(0);
    await engine.close();

    const gate = cli(["check", "--workflows", NEW_CODE, "--store", path]);
    expect(gate.status, gate.stderr).toBe(5);
    expect(gate.stdout).toMatch(/gate-1 +gate +compatible/);
    expect(gate.stdout).toMatch(
      /reorder-1 +reorder +diverges +at position 2: recorded wait 'go#1', asked step 'inserted#1'/,
    );
    expect(gate.stdout).toMatch(
      /retire-1 +retire@1 +orphaned +pinned to version '1'; the module registers versions '2'/,
    );
    expect(gate.stdout).toContain("3 runs: 1 compatible, 1 diverge, 1 orphaned");
    const json = JSON.parse(
      cli(["check", "--workflows", NEW_CODE, "--store", path, "--json"]).stdout,
    );
    expect(json.summary).toEqual({
      total: 3,
      compatible: 1,
      diverges: 1,
      orphaned: 1,
      upcast_failed: 0,
    });

    const file = join(tempDir(), "reorder-1.jsonl");
    writeFileSync(file, exported.stdout);
    const replayed = cli(["replay", "--workflows", NEW_CODE, "--journal", file]);
    expect(replayed.status).toBe(5);
    expect(replayed.stdout).toContain("diverges");

    const missing = cli(["check", "--workflows", NEW_CODE, "--store", join(tempDir(), "nope.db")]);
    expect(missing.status).toBe(6);
    expect(missing.stderr).toContain("store_unavailable");
    const closed = cli([
      "check",
      "--workflows",
      NEW_CODE,
      "--store",
      "postgres://u:p@127.0.0.1:1/x",
    ]);
    expect(closed.status).toBe(6);
  });
});
