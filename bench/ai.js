// npm run bench:ai: what durability costs an agent, on this machine. A scripted model answers
// at once, so the figures are endure's own overhead per turn (a model step, a tool step and
// their output-stream parts), the throughput of streamed text into a run's output stream, and
// the time to replay a long agent run from its journal after a restart. Prints a table and
// writes bench/results/ai.json.
//
//   node bench/ai.js [--quick]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { createEngine, workflow } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";
import { sqliteStore } from "endure/sqlite";

const quick = process.argv.includes("--quick");
const dir = mkdtempSync(join(tmpdir(), "endure-bench-ai-"));
const silent = { warn: () => {} };
const rows = [];
const results = { node: process.version, when: new Date().toISOString() };
let files = 0;
const file = () => join(dir, `b${files++}.db`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const echo = tool({
  description: "Echo",
  input: z.object({ i: z.number() }),
  run: ({ i }) => i,
});

/** An agent that calls `echo` for `turns - 1` turns, then answers. */
function looping(name, turns) {
  const model = scriptedModel((request) => {
    const done = request.messages.filter((m) => m.role === "assistant").length;
    return done < turns - 1
      ? {
          toolCalls: [{ name: "echo", input: { i: done } }],
          usage: { inputTokens: 10, outputTokens: 5 },
        }
      : { text: "done", usage: { inputTokens: 10, outputTokens: 1 } };
  });
  return agent(name, { model, tools: { echo }, maxTurns: turns + 1, stream: false });
}

async function perTurn(durability, turns, runs) {
  const a = looping(`turns-${durability}`, turns);
  const engine = await createEngine({
    store: sqliteStore(file(), { durability }),
    workflows: [a],
    logger: silent,
  });
  await (await engine.start(a, { prompt: "warm up" })).result();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await (await engine.start(a, { prompt: "go" })).result();
    samples.push((performance.now() - t0) / turns);
  }
  await engine.close();
  return { turns, runs, msPerTurn: median(samples) };
}

async function streamed(parts, runs) {
  const talker = workflow("talker", async (ctx) => {
    await ctx.step("speak", async ({ emit }) => {
      for (let i = 0; i < parts; i++) {
        emit({ type: "text-delta", id: "t", delta: "word " });
        if (i % 20 === 19) await new Promise((r) => setImmediate(r));
      }
    });
  });
  const engine = await createEngine({
    store: sqliteStore(file(), { durability: "fsync" }),
    workflows: [talker],
    logger: silent,
  });
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const run = await engine.start(talker, null);
    let read = 0;
    for await (const _ of run.stream()) read++;
    if (read !== parts) throw new Error(`read ${read} of ${parts} parts`);
    samples.push(parts / ((performance.now() - t0) / 1000));
  }
  await engine.close();
  return { parts, runs, partsPerSecond: median(samples) };
}

async function replay(turns) {
  const path = file();
  const a = looping("long", turns);
  const first = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [a],
    logger: silent,
  });
  const run = await first.start(a, { prompt: "go" }, { id: "long-run" });
  await run.result();
  await first.close();
  // A replay: the same code walks every turn again from the journal, calling nothing.
  const reader = await createEngine({ store: sqliteStore(path), worker: false, logger: silent });
  const journal = (await reader.store.readJournal("long-run")).filter(
    (x) => x.type !== "run_completed",
  );
  await reader.close();
  const { RunExecution } = await import("../dist/core/run-execution.js");
  const { MemoryPort } = await import("../dist/testing/memory-port.js");
  const t0 = performance.now();
  const execution = new RunExecution(
    a,
    { runId: "long-run", input: { prompt: "go" }, journal },
    new MemoryPort({ journal }),
  );
  const outcome = await execution.outcome;
  const ms = performance.now() - t0;
  if (outcome.kind !== "completed") throw new Error(`replay ended ${outcome.kind}`);
  return { turns, journalEntries: journal.length, replayMs: ms, msPerTurn: ms / turns };
}

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
for (const durability of ["fsync", "process"]) {
  const r = await perTurn(durability, 10, quick ? 5 : 20);
  results[`turn_${durability}`] = r;
  rows.push([
    `agent turn (model step + tool step + parts), sqlite ${durability}`,
    r.msPerTurn,
    "ms",
  ]);
}
const s = await streamed(quick ? 2_000 : 10_000, quick ? 3 : 5);
results.stream = s;
rows.push([
  `streamed text parts into a run's output stream and read back, fsync`,
  s.partsPerSecond,
  "parts/s",
]);
const rp = await replay(quick ? 100 : 400);
results.replay = rp;
rows.push([
  `replay of a ${rp.turns}-turn agent from its journal (${rp.journalEntries} entries)`,
  rp.replayMs,
  "ms",
]);
rows.push(["  … per turn", rp.msPerTurn, "ms"]);

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`endure AI benchmarks — node ${process.version}${quick ? " (quick)" : ""}\n`);
for (const [metric, value, unit] of rows)
  console.log(`${metric.padEnd(width)}  ${fmt(value).padStart(10)}  ${unit}`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/ai.json", import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log("\nwrote bench/results/ai.json");
rmSync(dir, { recursive: true, force: true });
