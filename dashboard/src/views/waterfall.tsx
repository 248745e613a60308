// The waterfall of a run: one row per operation, bars placed on the run's time axis, failed
// attempts drawn before the one that succeeded, overlapping operations marked as parallel.
// A row opens the operation's result, error, attempts, model and tokens.
import { useState } from "preact/hooks";
import { formatCost, formatDuration, formatTokens } from "../format.ts";
import { timelineSpan, type Op } from "../timeline.ts";
import { JsonView } from "./json-view.tsx";

export function Waterfall({ ops, now }: { ops: readonly Op[]; now: number }) {
  const [open, setOpen] = useState<number | null>(null);
  const span = timelineSpan(ops, now);
  const width = span.endMs - span.startMs;
  const pct = (ms: number): string => `${((100 * (ms - span.startMs)) / width).toFixed(3)}%`;
  const len = (from: number, to: number): string =>
    `${Math.max(0, (100 * (to - from)) / width).toFixed(3)}%`;
  const selected = ops.find((o) => o.position === open);
  if (ops.length === 0) return <p class="muted">No steps yet.</p>;
  return (
    <>
      <div class="timeline" role="list" aria-label="Timeline of steps, waits and model calls">
        {ops.map((op) => {
          const end = op.endMs ?? now;
          const segments =
            op.attempts.length > 1
              ? op.attempts.map((a) => ({ from: a.startMs, to: a.endMs ?? end, failed: a.failed }))
              : [{ from: op.startMs, to: end, failed: op.state === "failed" }];
          return (
            <div role="listitem" style={{ display: "contents" }} data-op={op.key}>
              <div
                class={`label ${op.parallelGroup === null ? "" : "par"} ${open === op.position ? "selected" : ""}`}
              >
                <button
                  type="button"
                  aria-expanded={open === op.position}
                  onClick={() => setOpen(open === op.position ? null : op.position)}
                >
                  {op.key}
                </button>
                <div class="meta">
                  {labelOf(op)} ·{" "}
                  {op.endMs === null
                    ? `${formatDuration(end - op.startMs)} so far`
                    : formatDuration(end - op.startMs)}
                  {op.attempts.length > 1 && ` · ${op.attempts.length} attempts`}
                  {op.usage !== null &&
                    ` · ${formatTokens(op.usage.inputTokens + op.usage.outputTokens)} tokens · ${formatCost(op.usage.costUsd)}`}
                  {op.parallelGroup !== null && " · parallel"}
                </div>
              </div>
              <div class="lane" aria-hidden="true">
                {segments.map((s) => (
                  <div
                    class={`bar ${op.kind} ${s.failed ? "failed-attempt" : ""} ${op.endMs === null ? "open" : ""}`}
                    style={{ left: pct(s.from), width: len(s.from, s.to) }}
                  />
                ))}
              </div>
            </div>
          );
        })}
      </div>
      {selected !== undefined && <OpDetail op={selected} />}
    </>
  );
}

function labelOf(op: Op): string {
  switch (op.kind) {
    case "model":
      return `model call${op.model === null ? "" : ` (${op.model})`}`;
    case "sleep":
      return "sleep";
    case "wait":
      return op.wait === null ? "wait" : `${op.wait.kind} '${op.wait.target}'`;
    case "step":
      return op.state === "failed"
        ? "step, failed"
        : op.state === "running"
          ? "step, running"
          : "step";
  }
}

function OpDetail({ op }: { op: Op }) {
  return (
    <section class="detail panel" aria-label={`Details of ${op.key}`}>
      <h2>{op.key}</h2>
      <div class="facts">
        <span>
          kind <b>{op.kind}</b>
        </span>
        <span>
          state <b>{op.state}</b>
        </span>
        {op.model !== null && (
          <span>
            model <b>{op.model}</b>
          </span>
        )}
        {op.usage !== null && (
          <span>
            tokens <b>{op.usage.inputTokens}</b> in, <b>{op.usage.outputTokens}</b> out · cost{" "}
            <b>{formatCost(op.usage.costUsd)}</b>
          </span>
        )}
      </div>
      {op.attempts
        .filter((a) => a.failed)
        .map((a) => (
          <div>
            <h3>Attempt {a.n} failed</h3>
            <JsonView value={a.error} label={`Error of attempt ${a.n}`} />
          </div>
        ))}
      {op.error !== null && (
        <>
          <h3>Error</h3>
          <JsonView value={op.error} label="Error" />
        </>
      )}
      {op.state !== "failed" && op.endMs !== null && (
        <>
          <h3>{op.kind === "step" || op.kind === "model" ? "Output" : "Result"}</h3>
          <JsonView value={op.output} label="Output" />
        </>
      )}
      <details>
        <summary>Journal entries ({op.entries.length})</summary>
        <JsonView value={op.entries} label="Journal entries of this operation" />
      </details>
    </section>
  );
}
