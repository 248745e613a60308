// Deterministic: the values waits hand to the code, encoded as the journal keeps them. Stores
// build them when they end a wait, so that the code sees the same value on replay.
import { approvalResultOf, type RecordedDecision } from "./approval-rules.js";
import { encodeValue } from "./serialize.js";

const date = (ms: number): string =>
  JSON.stringify({ $endure: "date", v: new Date(ms).toISOString() });

/** An event as `ctx.waitForEvent` returns it; `data` is already encoded. */
export function encodeReceivedEvent(
  id: string,
  name: string,
  data: string,
  receivedAt: number,
): string {
  return `{"id":${JSON.stringify(id)},"name":${JSON.stringify(name)},"data":${data},"receivedAt":${date(receivedAt)}}`;
}

/** A signal as `ctx.waitForSignal` returns it; `data` is already encoded. */
export function encodeReceivedSignal(name: string, data: string, sentAt: number): string {
  return `{"name":${JSON.stringify(name)},"data":${data},"sentAt":${date(sentAt)}}`;
}

/** An approval's result as `ctx.approval` returns it. */
export function encodeApprovalResult(
  outcome: "approved" | "rejected" | "timed_out" | "resolved",
  decisions: readonly RecordedDecision[],
  at: number,
  approved?: boolean,
): string {
  return encodeValue(approvalResultOf(outcome, decisions, at, approved), "approval result");
}

/** How a child run ended, as its parent's `ctx.invoke` wait holds it: `payload` is the
 * child's output (completed) or error (otherwise), as stored. */
export function encodeChildOutcome(
  status: "completed" | "failed" | "cancelled" | "timed_out",
  payload: string,
): string {
  return `{"status":${JSON.stringify(status)},"${status === "completed" ? "output" : "error"}":${payload}}`;
}

/** A child wait a store refused: its target is the waiting run itself or an ancestor
 * (`cycle`), or a run that is not its child (`conflict`). */
export function encodeChildRefusal(reason: "cycle" | "conflict", message: string): string {
  return encodeValue({ status: "refused", reason, message }, "child refusal");
}
