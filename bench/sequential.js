// The per-step measurement both benchmark parts use: sequential runs of a 10-step workflow
// and of an empty one, in blocks interleaved with blocks of floor commits so that the
// machine's drift hits both alike; each block gives ratios, and medians are kept.
import { workflow } from "endure";

export const tenSteps = workflow("ten-steps", async (ctx) => {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await ctx.step("step", () => i);
  return total;
});
export const noSteps = workflow("no-steps", async () => 0);

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `engine` runs both workflows; `floor.commitUs(n)` times n floor commits and returns the
 * mean in µs (sync or async).
 */
export async function sequentialSteps(engine, floor, blocks, runsPerBlock) {
  const timeRuns = async (wf) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < runsPerBlock; i++) await (await engine.start(wf, undefined)).result();
    return Number(process.hrtime.bigint() - t0) / 1e3 / runsPerBlock;
  };
  await floor.commitUs(100);
  await timeRuns(tenSteps);
  const samples = [];
  for (let b = 0; b < blocks; b++) {
    const floorUs = await floor.commitUs(runsPerBlock * 10);
    const emptyRunUs = await timeRuns(noSteps);
    const tenStepRunUs = await timeRuns(tenSteps);
    samples.push({
      floorUs,
      emptyRunUs,
      tenStepRunUs,
      perStepUs: tenStepRunUs / 10,
      marginalStepUs: (tenStepRunUs - emptyRunUs) / 10,
    });
  }
  const pick = (k) => median(samples.map((s) => s[k]));
  return {
    floorCommitUs: pick("floorUs"),
    emptyRunUs: pick("emptyRunUs"),
    tenStepRunUs: pick("tenStepRunUs"),
    perStepUs: pick("perStepUs"),
    marginalStepUs: pick("marginalStepUs"),
    perStepRatio: median(samples.map((s) => s.perStepUs / s.floorUs)),
    marginalRatio: median(samples.map((s) => s.marginalStepUs / s.floorUs)),
    blocks: samples,
  };
}
