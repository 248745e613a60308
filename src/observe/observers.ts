// Puts the log and the trace observers behind one: what the engine hands its worker.
import {
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  trace,
  type MeterProvider,
  type TracerProvider,
} from "@opentelemetry/api";
import { guardedObserver, type RunObservation, type RunObserver } from "../worker/observer.js";
import { logObserver } from "./log-observer.js";
import type { StructuredLogger } from "./logger.js";
import { createInstruments, runAttributes, type Instruments } from "./metrics.js";
import { startTraceOf, traceObserver } from "./trace-observer.js";
import { formatTraceparent, parseTraceparent } from "./traceparent.js";

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
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const tracer = tracerProvider.getTracer(INSTRUMENTATION_NAME);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
  );
  const instruments = createInstruments(meter);
  const logs = guardedObserver(logObserver(logger, workerId));
  // Each guarded on its own, so that a throwing logger still lets spans be recorded. With
  // neither an SDK's tracer nor its meter, spans and points would go nowhere: the per-entry
  // work of building them is skipped.
  const observer =
    isUnregistered(tracerProvider) && meter === createNoopMeter()
      ? passingTrace(logs)
      : bothObservers(logs, guardedObserver(traceObserver(tracer, instruments, workerId)));
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

/** The log observer, its runs carrying on the trace they were started in (as a tracer that
 * records nothing would: its spans are that trace's context). */
function passingTrace(logs: RunObserver): RunObserver {
  return {
    hosted: (run, journal, how, lag) => {
      const l = logs.hosted(run, journal, how, lag);
      return {
        traceparent: formatTraceparent(parseTraceparent(startTraceOf(journal)) ?? undefined),
        appended: (entry) => l.appended(entry),
        warn: (message) => l.warn(message),
        exited: (exit) => l.exited(exit),
      };
    },
    runCreated: (workflow) => logs.runCreated(workflow),
    warn: (message, fields) => logs.warn(message, fields),
  };
}

/** Whether `provider` is the API's global one with no SDK registered behind it. */
function isUnregistered(provider: TracerProvider): boolean {
  return (
    provider instanceof ProxyTracerProvider &&
    provider.getDelegate() === new ProxyTracerProvider().getDelegate()
  );
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
