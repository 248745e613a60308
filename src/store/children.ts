// Child runs as both SQL stores keep them: the outcome a parent's wait is handed when its
// child ends, and the cancellation a child gets when its parent stops waiting for it.
import { encodeChildOutcome } from "../core/wait-values.js";

/** The outcome of an ended child as its parent's wait holds it, or null while it runs. */
export function childOutcomeOf(
  status: string,
  output: string | null,
  error: string | null,
): string | null {
  if (status === "completed") return encodeChildOutcome("completed", output ?? "null");
  if (status === "failed" || status === "cancelled" || status === "timed_out")
    return encodeChildOutcome(status, error ?? "null");
  return null;
}

/** The cancellation of a child whose parent no longer waits for it, as the store keeps it. */
export function stoppedWaiting(parentId: string, key: string | null): string {
  const reason =
    key === null
      ? `its parent run ${parentId} no longer waits for it`
      : `its parent run ${parentId} stopped waiting for it (${key})`;
  return JSON.stringify({ reason, kind: "cancelled" });
}
