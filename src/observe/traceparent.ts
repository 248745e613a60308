// W3C trace context (`traceparent`) read and written by hand, so propagation works without
// a globally registered propagator: `00-<trace id>-<span id>-<flags>`.
import { context, trace, TraceFlags, type Context, type SpanContext } from "@opentelemetry/api";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` of a span context, or null when it is not valid. */
export function formatTraceparent(span: SpanContext | undefined): string | null {
  if (span === undefined || !trace.isSpanContextValid(span)) return null;
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, "0");
  return `00-${span.traceId}-${span.spanId}-${flags}`;
}

/** The span context a `traceparent` names, or null when it is malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | null {
  const m = TRACEPARENT.exec(value ?? "");
  if (m === null) return null;
  const span: SpanContext = {
    traceId: m[1] ?? "",
    spanId: m[2] ?? "",
    traceFlags: parseInt(m[3] ?? "0", 16),
    isRemote: true,
  };
  return trace.isSpanContextValid(span) ? span : null;
}

/** The `traceparent` of the span active where the caller is (null without tracing). */
export function activeTraceparent(): string | null {
  return formatTraceparent(trace.getSpanContext(context.active()));
}

/** A context whose parent is the span a `traceparent` names (the root context if none). */
export function contextOf(traceparent: string | null, base: Context): Context {
  const span = parseTraceparent(traceparent);
  return span === null ? base : trace.setSpanContext(base, span);
}
