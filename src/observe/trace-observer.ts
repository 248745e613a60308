// Spans and metrics of runs, through @opentelemetry/api only: a span per stay of a run in a
// worker's memory (linked to the run's earlier stays, parented by the trace that started
// it), per step attempt, per sleep or wait, and per model call, with GenAI attributes.
// Spans are built from the entries a run appends, with the entries' own times.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import type { RunRecord } from "../store/store.js";
import type { HostedHow, RunObservation, RunObserver } from "../worker/observer.js";
import type { RunExit } from "../worker/run-host.js";
import { peekTrace, peekWaitKind } from "../core/entry-data.js";
import { attemptOf, failureOf, spanOf, stepNameOf } from "./entry-facts.js";
import { runAttributes, type Instruments } from "./metrics.js";
import { contextOf, formatTraceparent, parseTraceparent } from "./traceparent.js";

/** Most earlier stays a run's span links to (the latest ones). */
export const RUN_SPAN_LINKS_MAX = 32;

/** A run observer that records spans and metrics. */
export function traceObserver(
  tracer: Tracer,
  instruments: Instruments,
  workerId: string | null,
): RunObserver {
  return {
    hosted: (run, journal, how, lagMs) => {
      const attrs = runAttributes(run.workflow);
      if (lagMs !== null) instruments.queueLag.record(lagMs, attrs);
      if (how === "recovered") instruments.leaseTakeovers.add(1, attrs);
      return new RunTrace(tracer, instruments, workerId, run, journal, how);
    },
    runCreated: (workflow) => instruments.runsStarted.add(1, runAttributes(workflow)),
    warn: () => {},
  };
}

/** The trace a run was started in: the `trace` of its `run_started` entry. */
export function startTraceOf(journal: readonly JournalEntry[]): string | null {
  const started = journal.find((e) => e.type === "run_started");
  return peekTrace(started?.data ?? null);
}

const STAY_TYPES = new Set(["run_recovered", "run_resumed", "run_suspended"]);

function earlierStays(journal: readonly JournalEntry[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (let i = journal.length - 1; i >= 0 && links.length < RUN_SPAN_LINKS_MAX; i--) {
    const entry = journal[i];
    if (entry === undefined || !STAY_TYPES.has(entry.type)) continue;
    const span = spanOf(entry);
    const context = parseTraceparent(span);
    if (span === null || context === null || seen.has(span)) continue;
    seen.add(span);
    links.push({ context, attributes: { "endure.link": "earlier_stay" } });
  }
  return links.reverse();
}

interface OpenWait {
  readonly at: number;
  readonly key: string | null;
  readonly kind: string;
}

class RunTrace implements RunObservation {
  readonly traceparent: string | null;
  private readonly span: Span;
  private readonly attrs: Attributes;
  private readonly attempts = new Map<string, { span: Span; at: number }>();
  private readonly waits = new Map<number, { span: Span; kind: string }>();
  /** Waits begun in an earlier stay, by position: their span is made when they end. */
  private readonly earlierWaits = new Map<number, OpenWait>();
  private ended: string | null = null;

  constructor(
    private readonly tracer: Tracer,
    private readonly m: Instruments,
    workerId: string | null,
    private readonly run: RunRecord,
    journal: readonly JournalEntry[],
    how: HostedHow,
  ) {
    this.attrs = runAttributes(run.workflow);
    const parent = contextOf(startTraceOf(journal), ROOT_CONTEXT);
    this.span = tracer.startSpan(
      `run ${run.workflow}`,
      {
        kind: SpanKind.INTERNAL,
        links: earlierStays(journal),
        attributes: {
          "endure.run.id": run.id,
          "endure.workflow": run.workflow,
          "endure.run.epoch": run.epoch,
          "endure.run.hosted": how,
          ...(workerId === null ? {} : { "endure.worker.id": workerId }),
        },
      },
      parent,
    );
    this.traceparent = formatTraceparent(this.span.spanContext());
    for (const entry of journal) this.noteEarlierWait(entry);
  }

  appended(entry: NewEntry): void {
    switch (entry.type) {
      case "step_attempt_started":
        this.attemptStarted(entry);
        return;
      case "step_succeeded":
        this.attemptEnded(entry, null);
        this.m.steps.add(1, { ...this.attrs, "endure.step.status": "succeeded" });
        return;
      case "step_attempt_failed":
      case "step_verification_failed":
        this.attemptEnded(entry, failureOf(entry));
        this.m.retries.add(1, this.attrs);
        return;
      case "step_failed":
        this.attemptEnded(entry, failureOf(entry));
        this.m.steps.add(1, { ...this.attrs, "endure.step.status": "failed" });
        return;
      case "sleep_started":
      case "wait_started":
        this.waitStarted(entry);
        return;
      case "sleep_completed":
      case "sleep_cancelled":
      case "wait_completed":
      case "wait_cancelled":
        this.waitEnded(entry);
        return;
      case "run_completed":
      case "run_failed":
      case "run_cancelled":
      case "run_timed_out":
      case "run_paused":
        this.ended = entry.type.slice("run_".length);
        return;
      default:
        return;
    }
  }

  warn(message: string): void {
    this.span.addEvent("endure.warning", { "endure.message": message });
  }

  exited(exit: RunExit): void {
    const at = Date.now();
    for (const { span } of this.attempts.values()) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "the run left memory" });
      span.end(at);
    }
    this.attempts.clear();
    // A wait still open goes on after this stay (the run was suspended): its span is made
    // by the stay in which it ends, from the journal, and this one is dropped unexported.
    if (exit.kind === "ended") for (const { span } of this.waits.values()) span.end(at);
    this.waits.clear();
    if (exit.kind === "ended" || exit.kind === "paused") {
      const status = exit.kind === "paused" ? "paused" : exit.status;
      this.span.setAttribute("endure.run.status", status);
      if (status !== "completed")
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: `run ${status}` });
      this.m.runsEnded.add(1, { ...this.attrs, "endure.run.status": status });
    } else {
      this.span.setAttribute("endure.run.status", this.ended ?? "left");
    }
    this.span.end();
  }

  private child(name: string, at: number, attributes: Attributes, kind = SpanKind.INTERNAL): Span {
    const parent = trace.setSpan(ROOT_CONTEXT, this.span);
    return this.tracer.startSpan(name, { kind, startTime: at, attributes }, parent);
  }

  private attemptStarted(entry: NewEntry): void {
    const key = entry.key ?? "";
    this.attempts.get(key)?.span.end(entry.at);
    const span = this.child(`step ${stepNameOf(key)}`, entry.at, {
      "endure.run.id": this.run.id,
      "endure.step.key": key,
      "endure.step.attempt": attemptOf(entry) ?? 0,
    });
    this.attempts.set(key, { span, at: entry.at });
  }

  private attemptEnded(entry: NewEntry, error: { name: string; message: string } | null): void {
    const key = entry.key ?? "";
    const open = this.attempts.get(key);
    if (open === undefined) return;
    this.attempts.delete(key);
    this.m.stepDuration.record(Math.max(0, entry.at - open.at), this.attrs);
    if (entry.usage !== undefined) this.modelCall(entry, open);
    if (error !== null) {
      open.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      open.span.addEvent("exception", {
        "exception.type": error.name,
        "exception.message": error.message,
      });
    }
    open.span.end(entry.at);
  }

  /** A metered step is a model call: a client span with the GenAI semantic conventions. */
  private modelCall(entry: NewEntry, attempt: { span: Span; at: number }): void {
    const usage = entry.usage;
    if (usage === undefined) return;
    const model = usage.model ?? "unknown";
    const system = usage.system ?? "unknown";
    const genAi: Attributes = {
      "gen_ai.operation.name": "chat",
      "gen_ai.system": system,
      "gen_ai.request.model": model,
    };
    const span = this.tracer.startSpan(
      `chat ${model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: attempt.at,
        attributes: {
          ...genAi,
          "gen_ai.usage.input_tokens": usage.inputTokens,
          "gen_ai.usage.output_tokens": usage.outputTokens,
          "endure.cost.usd": usage.costUsd,
          "endure.step.key": entry.key ?? "",
        },
      },
      trace.setSpan(ROOT_CONTEXT, attempt.span),
    );
    span.end(entry.at);
    const attrs = { ...this.attrs, ...genAi };
    this.m.modelTokens.record(usage.inputTokens, { ...attrs, "gen_ai.token.type": "input" });
    this.m.modelTokens.record(usage.outputTokens, { ...attrs, "gen_ai.token.type": "output" });
    this.m.modelCost.add(usage.costUsd, attrs);
  }

  private waitStarted(entry: NewEntry): void {
    const wait = waitOf(entry);
    const span = this.child(`${wait.kind} ${entry.key ?? ""}`, entry.at, {
      "endure.run.id": this.run.id,
      "endure.wait.kind": wait.kind,
      "endure.wait.key": entry.key ?? "",
    });
    if (entry.position !== null) this.waits.set(entry.position, { span, kind: wait.kind });
    this.m.waitsPending.add(1, { ...this.attrs, "endure.wait.kind": wait.kind });
  }

  private waitEnded(entry: NewEntry): void {
    const position = entry.position ?? -1;
    const open = this.waits.get(position);
    let span = open?.span;
    this.waits.delete(position);
    const earlier = this.earlierWaits.get(position);
    this.earlierWaits.delete(position);
    if (span === undefined && earlier !== undefined) {
      span = this.child(`${earlier.kind} ${earlier.key ?? ""}`, earlier.at, {
        "endure.run.id": this.run.id,
        "endure.wait.kind": earlier.kind,
        "endure.wait.key": earlier.key ?? "",
      });
    }
    if (span === undefined) return;
    const kind = open?.kind ?? earlier?.kind ?? "wait";
    this.m.waitsPending.add(-1, { ...this.attrs, "endure.wait.kind": kind });
    span.end(entry.at);
  }

  private noteEarlierWait(entry: JournalEntry): void {
    if (entry.position === null) return;
    if (entry.type === "sleep_started" || entry.type === "wait_started") {
      this.earlierWaits.set(entry.position, { at: entry.at, key: entry.key, ...waitOf(entry) });
    } else if (
      entry.type === "sleep_completed" ||
      entry.type === "wait_completed" ||
      entry.type === "sleep_cancelled" ||
      entry.type === "wait_cancelled"
    ) {
      this.earlierWaits.delete(entry.position);
    }
  }
}

function waitOf(entry: Pick<NewEntry, "type" | "data">): { kind: string } {
  if (entry.type === "sleep_started") return { kind: "sleep" };
  return { kind: peekWaitKind(entry.data) ?? "wait" };
}
