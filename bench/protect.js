// What data protection costs per step on the fsync path: the same 10-step workflow (each
// step returning a 1 KiB record) on two engines, each on its own SQLite file with fsync,
// one with a feature on and one without, timed in interleaved blocks (the order swapped
// every block, so that the machine's drift hits both alike). The ratio is the median of
// the blocks' ratios of per-step time, on to off.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { aesGcmCodec, createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { median } from "./sequential.js";

const record = { customer: "Ada Lovelace", note: "x".repeat(1000) };

export const tenRecords = workflow("ten-records", async (ctx, input) => {
  let n = 0;
  for (let i = 0; i < 10; i++) n += (await ctx.step("step", () => ({ ...record, i, input }))).i;
  return n;
});

/**
 * Per-step time of `tenRecords` with the engine options `on` beside `{}` (off), on fsync.
 * Returns both medians and the median ratio.
 */
export async function featureRatio(on, { blocks, runsPerBlock }) {
  const dir = mkdtempSync(join(tmpdir(), "endure-bench-protect-"));
  const open = (name, extra) =>
    createEngine({
      store: sqliteStore(join(dir, `${name}.db`), { durability: "fsync" }),
      workflows: [tenRecords],
      logger: { warn: () => {} },
      gcSchedule: null,
      ...extra,
    });
  const engines = { off: await open("off", {}), on: await open("on", on) };
  /** Wall and CPU time per step of a block of runs, in µs. */
  const perStep = async (engine) => {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < runsPerBlock; i++)
      await (await engine.start(tenRecords, { customer: "c-1" })).result();
    const cpu = process.cpuUsage(cpu0);
    const steps = runsPerBlock * 10;
    return {
      wall: Number(process.hrtime.bigint() - t0) / 1e3 / steps,
      cpu: (cpu.user + cpu.system) / steps,
    };
  };
  await perStep(engines.off);
  await perStep(engines.on);
  const samples = [];
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? ["off", "on"] : ["on", "off"];
    const t = {};
    for (const k of order) t[k] = await perStep(engines[k]);
    samples.push({
      offUs: t.off.wall,
      onUs: t.on.wall,
      ratio: t.on.wall / t.off.wall,
      offCpuUs: t.off.cpu,
      onCpuUs: t.on.cpu,
    });
  }
  await engines.off.close();
  await engines.on.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    offStepUs: median(samples.map((s) => s.offUs)),
    onStepUs: median(samples.map((s) => s.onUs)),
    ratio: median(samples.map((s) => s.ratio)),
    /** CPU time the feature adds per step, in µs (less sensitive to a busy machine). */
    cpuAddedUs: median(samples.map((s) => s.onCpuUs - s.offCpuUs)),
    offCpuUs: median(samples.map((s) => s.offCpuUs)),
    blocks: samples,
  };
}

/** A codec with a fresh random key, as a deployment would configure it. */
export function benchCodec() {
  return aesGcmCodec({ keys: { bench: randomBytes(32) }, current: "bench" });
}

/** A reader that collects nothing until asked (as a periodic exporter between its rounds). */
class IdleReader extends MetricReader {
  onForceFlush() {
    return Promise.resolve();
  }
  onShutdown() {
    return Promise.resolve();
  }
}

/**
 * The engine option of an OpenTelemetry SDK as an operator sets one up: spans batched to an
 * exporter (one that drops them, standing for a collector), metrics recorded.
 */
export function benchTelemetry() {
  const exporter = {
    export: (_spans, done) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  return { tracerProvider, meterProvider };
}
