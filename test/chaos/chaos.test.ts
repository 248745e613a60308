// Proves the chaos harness both passes endure and catches a broken store: a short storm of
// SIGKILLs and store faults on real worker processes over a real SQLite file ends with every
// invariant kept, and the same storm over a store that drops a commit or replays a committed
// step reports violations. (The bounded and long runs are `npm run chaos`, in .ci/run.)
import { describe, expect, it } from "vitest";
import { runChaos } from "./harness.js";
import { formatReport } from "./report.js";

describe("chaos harness", () => {
  it("finds no violation on SQLite under kills and store faults", async () => {
    const report = await runChaos({ store: "sqlite", kills: 24, workers: 2, seed: 11 });
    console.log(formatReport(report));
    expect(report.violations).toEqual([]);
    expect(report.kills).toBe(24);
    expect(report.runs).toBeGreaterThanOrEqual(16);
    expect(report.steps).toBeGreaterThan(report.runs);
  }, 300_000);

  for (const broken of ["drop-commit", "replay-step"] as const) {
    it(`reports violations on a store that lies (${broken})`, async () => {
      const report = await runChaos({
        store: "sqlite",
        kills: 6,
        workers: 2,
        seed: 5,
        runs: 10,
        broken,
        drainMs: 20_000,
      });
      console.log(formatReport(report), report.violations.slice(0, 5));
      expect(report.faults).toBeGreaterThan(0);
      expect(report.violations.length).toBeGreaterThan(0);
    }, 300_000);
  }
});
