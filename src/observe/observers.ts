// Puts the log and the trace observers behind one: what the engine hands its worker.
import { metrics, trace, type MeterProvider, type TracerProvider } from "@opentelemetry/api";
import { guardedObserver, type RunObservation, type RunObserver } from "../worker/observer.js";
import { logObserver } from "./log-observer.js";
import type { StructuredLogger } from "./logger.js";
import { createInstruments, runAttributes, type Instruments } from "./metrics.js";
import { traceObserver } from "./trace-observer.js";

/** Where endure sends spans and metrics; the globally registered providers by default. */
export interface TelemetryOptions {
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

/** The instrumentation scope of endure's spans and metrics. */
export const INSTRUMENTATION_NAME = "endure";

/** The telemetry of one engine: its observer, and its instruments for the engine's own use. */
export interface EngineTelemetry {
  readonly observer: RunObserver;
  readonly instruments: Instruments;
  runCreated(workflow: string): void;
}

/** Builds an engine's telemetry. Providers are read now: set up an SDK before createEngine. */
export function createTelemetry(
  logger: StructuredLogger,
  workerId: string | null,
  options: TelemetryOptions = {},
): EngineTelemetry {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_NAME,
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
  );
  const instruments = createInstruments(meter);
  // Each guarded on its own, so that a throwing logger still lets spans be recorded.
  const observer = bothObservers(
    guardedObserver(logObserver(logger, workerId)),
    guardedObserver(traceObserver(tracer, instruments, workerId)),
  );
  return {
    observer,
    instruments,
    runCreated: (workflow) => {
      try {
        instruments.runsStarted.add(1, runAttributes(workflow));
      } catch {
        // A meter that throws loses its point, never a run.
      }
    },
  };
}

function bothObservers(logs: RunObserver, traces: RunObserver): RunObserver {
  return {
    hosted: (run, journal, how, lag) => {
      const t = traces.hosted(run, journal, how, lag);
      const l = logs.hosted(run, journal, how, lag);
      const both: RunObservation = {
        traceparent: t.traceparent,
        appended: (entry) => {
          t.appended(entry);
          l.appended(entry);
        },
        warn: (message) => {
          t.warn(message);
          l.warn(message);
        },
        exited: (exit) => {
          t.exited(exit);
          l.exited(exit);
        },
      };
      return both;
    },
    runCreated: (workflow) => {
      traces.runCreated(workflow);
      logs.runCreated(workflow);
    },
    warn: (message, fields) => {
      traces.warn(message, fields);
      logs.warn(message, fields);
    },
  };
}
