// The sentence `explain` gives about a run's state, with durations in their two largest units.
import type { RunState } from "./run-state.js";

/** Formats a duration in milliseconds with its two largest units: "6d 21h", "2h 3m", "40s". */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ];
  let left = Math.max(0, Math.round(ms));
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (left >= size || (parts.length === 0 && name === "s")) {
      parts.push(`${Math.floor(left / size)}${name}`);
      left %= size;
    } else if (parts.length > 0) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** An operation's name without its occurrence: `enrich#3` is `enrich`. */
export const nameOf = (key: string): string => key.slice(0, key.lastIndexOf("#"));

/** One plain sentence about `state`, as of `now`. */
export function sentenceOf(state: RunState, now: number): string {
  const ago = (d: Date) => formatDuration(now - d.getTime());
  const inFuture = (d: Date) =>
    d.getTime() <= now ? "now" : `in ${formatDuration(d.getTime() - now)}`;
  switch (state.kind) {
    case "pending":
      return `queued for a worker since ${ago(state.since)}`;
    case "running": {
      const last =
        state.lastStep === null ? "" : `last completed step: '${nameOf(state.lastStep)}'`;
      if (state.step === null)
        return `running${last === "" ? "" : ` (${last})`}; last progress ${ago(state.since)} ago`;
      const attempt = state.attempt === null ? "" : ` (attempt ${state.attempt})`;
      return `running step '${state.step}'${attempt} for ${ago(state.since)}${last === "" ? "" : `; ${last}`}`;
    }
    case "retrying":
      return `retrying step '${state.step}' (attempt ${state.attempt} of ${state.attempts}) after ${state.lastError}; next try ${inFuture(state.nextTryAt)}`;
    case "sleeping":
      return `sleeping '${state.sleep}' until ${state.until.toISOString()} (${inFuture(state.until)})`;
    case "waiting_for_event": {
      const match =
        state.match === null
          ? ""
          : ` matching ${Object.entries(state.match)
              .map(([p, v]) => `${p} = ${JSON.stringify(v)}`)
              .join(", ")}`;
      return `waiting for event '${state.event}'${match} since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}`;
    }
    case "waiting_for_signal":
      return `waiting for signal '${state.signal}' since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}`;
    case "waiting_for_approval": {
      const count = state.quorum > 1 ? ` (${state.approvals} of ${state.quorum} approvals)` : "";
      const others = state.others
        .map(
          (o) =>
            `; and for approval '${o.approval}' since ${ago(o.since)}; times out ${inFuture(o.timesOutAt)}`,
        )
        .join("");
      return `waiting for approval '${state.approval}'${count} since ${ago(state.since)}; times out ${inFuture(state.timesOutAt)}${others}`;
    }
    case "cancelling":
      return `cancelling (${state.reason}): its cleanup is running`;
    case "paused":
      return state.reason === "non_determinism"
        ? `paused: its code no longer matches its journal; deploy matching code and it resumes. ${state.message}`
        : `paused (${state.reason}): ${state.message}`;
    case "completed":
      return `completed ${ago(state.at)} ago, after ${formatDuration(state.took)}`;
    case "failed": {
      const where =
        state.step === null
          ? ""
          : ` at step '${nameOf(state.step)}'${state.attempts === null ? "" : ` after ${state.attempts} attempt${state.attempts === 1 ? "" : "s"}`}`;
      const cls = state.errorName === "Error" ? "" : `${state.errorName}: `;
      return `failed ${ago(state.at)} ago${where}: ${cls}${state.error}`;
    }
    case "cancelled":
      return `cancelled ${ago(state.at)} ago: ${state.reason}`;
    case "timed_out":
      return `timed out ${ago(state.at)} ago: ${state.reason}`;
  }
}
