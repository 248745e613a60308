// Proves the runnable examples run: the demo completes, prints its journal, and a second
// run on the same file returns the journaled result without executing anything again.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../examples/demo.js";
import { tempDir } from "./helpers.js";

describe("examples", () => {
  it("runs the demo and replays it from its journal", async () => {
    const path = join(tempDir(), "demo.db");
    const lines: string[] = [];
    const first = (await main({ path, fast: true, log: (l) => lines.push(l) })) as {
      score: number;
      draft: string;
    };
    expect(first.score).toBe(0.82);
    expect(first.draft).toContain("demo-acme-freight/draft outreach#1");
    expect(lines[0]).toBe("started run demo-acme-freight");
    expect(lines.some((l) => l.includes("step_succeeded score fit#1"))).toBe(true);
    expect(lines.some((l) => l.includes("run_completed"))).toBe(true);
    const again: string[] = [];
    expect(await main({ path, fast: true, log: (l) => again.push(l) })).toEqual(first);
    expect(again[0]).toBe("run demo-acme-freight exists: resuming or reading it");
  });
});
