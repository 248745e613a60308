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
