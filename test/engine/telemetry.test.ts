// Proves runs show up in OpenTelemetry through the SDK's in-memory exporter and reader: the
// run's span is a child of the span that started it, step attempts and waits are children of
// the run's span, a model call carries the GenAI attributes, a resumed run's span links to
// its earlier stay, and the metrics count runs, steps, retries, waits and tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { workflow } from "endure";
import { createTestClock } from "endure/testing";
import { llm, scriptedModel } from "endure/ai";
import { eventually, sqliteEngine } from "../helpers.js";

class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

function sum(metrics: ResourceMetrics, name: string, attrs: Record<string, unknown> = {}): number {
  let total = 0;
  for (const scope of metrics.scopeMetrics)
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        const matches = Object.entries(attrs).every(([k, v]) => point.attributes[k] === v);
        if (!matches) continue;
        const value = point.value as number | { sum: number; count: number };
        total += typeof value === "number" ? value : value.sum;
      }
    }
  return total;
}

const spanNamed = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("OpenTelemetry", () => {
  it("parents run, step, wait and model spans and records the metrics", async () => {
    exporter.reset();
    const clock = createTestClock();
    let failures = 0;
    const model = scriptedModel([{ text: "hi", usage: { inputTokens: 11, outputTokens: 2 } }], {
      model: "tiny-1",
      prices: { "tiny-1": { input: 2, output: 8 } },
    });
    const wf = workflow("traced", async (ctx, input: { n: number }) => {
      const a = await ctx.step(
        "flaky",
        () => {
          if (failures++ === 0) throw new Error("first attempt fails");
          return input.n + 1;
        },
        { retries: 2, backoff: { initial: 1, max: 1 } },
      );
      const reply = await llm(ctx, "ask", model, { messages: [{ role: "user", content: "hey" }] });
      await ctx.sleep("nap", "1h");
      return `${a} ${reply.text}`;
    });
    const engine = await sqliteEngine({
      workflows: [wf],
      clock,
      telemetry: { tracerProvider, meterProvider },
    });
    const caller = tracerProvider.getTracer("test");
    const run = await caller.startActiveSpan("http request", async (span) => {
      const handle = await engine.start(wf, { n: 1 }, { id: "traced-1" });
      span.end();
      return handle;
    });
    // The retry waits 1 ms of the virtual clock.
    await eventually(async () => {
      await clock.advance(1);
      return (await run.info()).status === "waiting";
    });
    await clock.advance("1h");
    expect(await run.result()).toBe("2 hi");
    await eventually(() => spanNamed(exporter.getFinishedSpans(), "run traced").length === 2);

    const spans = exporter.getFinishedSpans();
    const [request] = spanNamed(spans, "http request");
    const stays = spanNamed(spans, "run traced");
    expect(request).toBeDefined();
    for (const stay of stays) {
      expect(stay.spanContext().traceId).toBe(request?.spanContext().traceId);
      expect(parentOf(stay)).toBe(request?.spanContext().spanId);
      expect(stay.attributes["endure.run.id"]).toBe("traced-1");
      expect(typeof stay.attributes["endure.worker.id"]).toBe("string");
    }
    const [first, second] = stays.sort((a, b) =>
      a.attributes["endure.run.hosted"] === "started" ? -1 : b === a ? 0 : 1,
    );
    expect(first?.attributes["endure.run.hosted"]).toBe("started");
    expect(second?.attributes["endure.run.hosted"]).toBe("resumed");
    expect(second?.links.map((l) => l.context.spanId)).toEqual([first?.spanContext().spanId]);
    expect(second?.attributes["endure.run.status"]).toBe("completed");

    const attempts = spanNamed(spans, "step flaky");
    expect(attempts.map((s) => s.attributes["endure.step.attempt"])).toEqual([1, 2]);
    expect(attempts[0]?.status.code).toBe(2); // ERROR
    for (const s of attempts) expect(parentOf(s)).toBe(first?.spanContext().spanId);

    const [chat] = spanNamed(spans, "chat tiny-1");
    const [askAttempt] = spanNamed(spans, "step ask");
    expect(parentOf(chat as ReadableSpan)).toBe(askAttempt?.spanContext().spanId);
    expect(chat?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "scripted",
      "gen_ai.request.model": "tiny-1",
      "gen_ai.usage.input_tokens": 11,
      "gen_ai.usage.output_tokens": 2,
    });
    expect(chat?.attributes["endure.cost.usd"]).toBeCloseTo((11 * 2 + 2 * 8) / 1e6, 12);

    // The sleep began in the first stay and ended in the second: its span is the second's.
    const [nap] = spanNamed(spans, "sleep nap#1");
    expect(parentOf(nap as ReadableSpan)).toBe(second?.spanContext().spanId);
    expect(nap?.attributes["endure.wait.kind"]).toBe("sleep");

    const { resourceMetrics: m } = await reader.collect();
    const wfAttr = { "endure.workflow": "traced" };
    expect(sum(m, "endure.runs.started", wfAttr)).toBe(1);
    expect(sum(m, "endure.runs.ended", { ...wfAttr, "endure.run.status": "completed" })).toBe(1);
    expect(sum(m, "endure.steps", { ...wfAttr, "endure.step.status": "succeeded" })).toBe(2);
    expect(sum(m, "endure.step.retries", wfAttr)).toBe(1);
    expect(sum(m, "endure.waits.pending", wfAttr)).toBe(0);
    expect(sum(m, "gen_ai.client.token.usage", { "gen_ai.token.type": "input" })).toBe(11);
    expect(sum(m, "gen_ai.client.token.usage", { "gen_ai.token.type": "output" })).toBe(2);
    expect(sum(m, "endure.model.cost", wfAttr)).toBeCloseTo(38 / 1e6, 12);
  });

  it("joins the trace given as a traceparent, and refuses a malformed one", async () => {
    exporter.reset();
    const wf = workflow("joined", async (ctx) => ctx.step("one", () => 1));
    const engine = await sqliteEngine({ workflows: [wf], telemetry: { tracerProvider } });
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const run = await engine.start(wf, undefined, { id: "joined-1", traceparent });
    await run.result();
    await eventually(() => spanNamed(exporter.getFinishedSpans(), "run joined").length === 1);
    const [stay] = spanNamed(exporter.getFinishedSpans(), "run joined");
    expect(stay?.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(parentOf(stay as ReadableSpan)).toBe("b7ad6b7169203331");
    await expect(engine.start(wf, undefined, { traceparent: "nope" })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("costs nothing and records nothing without an SDK", async () => {
    expect(trace.getTracerProvider().getTracer("x").startSpan("s").isRecording()).toBe(false);
    const wf = workflow("untraced", async (ctx) => ctx.step("one", () => 1));
    const engine = await sqliteEngine({ workflows: [wf] });
    expect(await (await engine.start(wf, undefined)).result()).toBe(1);
  });

  it("carries the trace a run was started in on to its child runs without an SDK", async () => {
    const child = workflow("untraced-child", async (ctx) => ctx.step("one", () => 1));
    const parent = workflow("untraced-parent", async (ctx) => ctx.invoke("kid", child, undefined));
    const engine = await sqliteEngine({ workflows: [parent, child] });
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const run = await engine.start(parent, undefined, { id: "untraced-1", traceparent });
    expect(await run.result()).toBe(1);
    const [kid] = (await engine.listRuns({ workflow: "untraced-child" })).runs;
    const started = (await engine.journal(kid?.id ?? "")).find((e) => e.type === "run_started");
    expect(started?.data).toMatchObject({ trace: traceparent });
  });
});
