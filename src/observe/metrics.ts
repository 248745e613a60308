// The metrics endure records, through @opentelemetry/api (no-ops until an SDK is set up).
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";

/** endure's instruments on one meter. Names are stable; units follow OpenTelemetry's. */
export interface Instruments {
  readonly runsStarted: Counter;
  readonly runsEnded: Counter;
  readonly steps: Counter;
  readonly retries: Counter;
  readonly stepDuration: Histogram;
  readonly queueLag: Histogram;
  readonly waitsPending: UpDownCounter;
  readonly leaseTakeovers: Counter;
  readonly modelTokens: Histogram;
  readonly modelCost: Counter;
}

/** Creates endure's instruments on `meter`. */
export function createInstruments(meter: Meter): Instruments {
  return {
    runsStarted: meter.createCounter("endure.runs.started", {
      description: "Runs created, by workflow",
      unit: "{run}",
    }),
    runsEnded: meter.createCounter("endure.runs.ended", {
      description:
        "Runs that ended, by workflow and status (completed, failed, cancelled, timed_out, paused)",
      unit: "{run}",
    }),
    steps: meter.createCounter("endure.steps", {
      description: "Steps settled, by workflow and status (succeeded, failed)",
      unit: "{step}",
    }),
    retries: meter.createCounter("endure.step.retries", {
      description: "Step attempts that failed and are retried",
      unit: "{attempt}",
    }),
    stepDuration: meter.createHistogram("endure.step.duration", {
      description: "Duration of one step attempt",
      unit: "ms",
    }),
    queueLag: meter.createHistogram("endure.queue.lag", {
      description: "From a run becoming runnable to a worker claiming it",
      unit: "ms",
    }),
    waitsPending: meter.createUpDownCounter("endure.waits.pending", {
      description: "Sleeps and waits (events, signals, approvals) begun and not yet ended",
      unit: "{wait}",
    }),
    leaseTakeovers: meter.createCounter("endure.lease.takeovers", {
      description: "Runs taken over from a worker that was lost",
      unit: "{run}",
    }),
    modelTokens: meter.createHistogram("gen_ai.client.token.usage", {
      description: "Tokens per model call, by gen_ai.token.type (input, output)",
      unit: "{token}",
    }),
    modelCost: meter.createCounter("endure.model.cost", {
      description: "What model calls cost, from the models' price tables",
      unit: "USD",
    }),
  };
}

/** Attributes every metric of a run carries. */
export function runAttributes(workflow: string): Attributes {
  return { "endure.workflow": workflow };
}
