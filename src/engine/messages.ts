// What reaches runs from outside: events, signals, approval decisions. Each is checked, stored
// in one transaction with its effect on waits, and then the runs it woke are told.
import type { Clock } from "../core/clock.js";
import {
  ApprovalDecidedError,
  ApprovalNotAllowedError,
  ApprovalNotFoundError,
  InvalidArgumentError,
  RunFinishedError,
  RunNotFoundError,
} from "../core/errors.js";
import { COMMENT_LENGTH_MAX, DECIDER_LENGTH_MAX, EVENT_ID_LENGTH_MAX } from "../core/limits.js";
import { checkRunId, checkText } from "../core/text.js";
import type { RunLimits } from "../core/run-port.js";
import { checkPayloadSize, decodeValue, encodeValue } from "../core/serialize.js";
import { checkName } from "../core/workflow.js";
import type { ApprovalRecord, DecideResult, Store, WaitRef } from "../store/store.js";
import { newEventId } from "../worker/ids.js";

/** The parts of an engine messages need. */
export interface MessageParts {
  readonly store: Store;
  readonly clock: Clock;
  readonly limits: RunLimits;
  /** Tells local runs their waits ended, and wakes the worker for the others. */
  woke(refs: readonly WaitRef[]): void;
  /** An event was stored: start runs of workflows it triggers. */
  triggered(eventName: string): void;
}

/** An event to send. */
export interface EventToSend {
  /** The event's name, such as `"lead.created"`. */
  name: string;
  /** Any journaled value. */
  data?: unknown;
  /** Idempotency key: the same id sent twice is stored and delivered once. */
  id?: string;
}

/** What a sent event did. */
export interface SentEvent {
  readonly id: string;
  /** False when an event with this id had been sent before (nothing was delivered again). */
  readonly created: boolean;
  /** Runs whose waits it ended. */
  readonly woke: number;
}

/** A decision on an approval. */
export interface DecisionOptions {
  /** Who decides (checked against the approval's approvers). */
  by: string;
  comment?: string;
  /** The role the caller asserts, when the approval requires one. */
  role?: string;
}

/** An open approval, as `engine.approvals()` lists it. */
export interface PendingApproval {
  readonly runId: string;
  readonly workflow: string;
  /** The approval's name in the workflow, such as `publish`. */
  readonly name: string;
  readonly title: string;
  /** What is being approved. */
  readonly details: unknown;
  /** Who may decide: the approval's own approvers, then those its escalations added. */
  readonly approvers: readonly string[];
  /** Approvers added by the approval's `escalate` rungs so far, in order (empty until one). */
  readonly escalatedTo: readonly string[];
  readonly role: string | null;
  readonly quorum: number;
  readonly decisions: readonly {
    by: string;
    approved: boolean;
    comment: string | null;
    at: Date;
  }[];
  readonly requestedAt: Date;
  readonly timesOutAt: Date;
}

/** Checks and stores an event; wakes the runs waiting for it. */
export async function sendEvent(parts: MessageParts, event: EventToSend): Promise<SentEvent> {
  if (typeof event !== "object" || event === null)
    throw new InvalidArgumentError("sendEvent needs an event: { name, data, id? }");
  checkName(event.name, "event name");
  const id = event.id ?? newEventId(parts.clock.now());
  checkText(id, "event id", EVENT_ID_LENGTH_MAX);
  const what = `data of event '${event.name}'`;
  const data = encodeValue(event.data, what);
  checkPayloadSize(data, parts.limits.payloadBytesMax, what);
  const result = await parts.store.sendEvent({ id, name: event.name, data }, parts.clock.now());
  parts.woke(result.woken);
  if (result.created) parts.triggered(event.name);
  return { id, created: result.created, woke: result.woken.length };
}

/** Sends a signal to one run; refused when the run has ended. */
export async function sendSignal(
  parts: MessageParts,
  runId: string,
  name: string,
  data: unknown,
): Promise<void> {
  checkRunId(runId);
  checkName(name, "signal name");
  const what = `data of signal '${name}'`;
  const encoded = encodeValue(data, what);
  checkPayloadSize(encoded, parts.limits.payloadBytesMax, what);
  const result = await parts.store.sendSignal(runId, { name, data: encoded }, parts.clock.now());
  if (result.kind === "not_found")
    throw new RunNotFoundError(`cannot signal: no run has the id '${runId}'`);
  if (result.kind === "finished") {
    throw new RunFinishedError(
      `cannot signal run ${runId}: it has ended (${result.run.status}); signals reach running or waiting runs only`,
    );
  }
  parts.woke(result.woken);
}

/** Records an approval decision; settles the approval when its rules say so. */
export async function decide(
  parts: MessageParts,
  runId: string,
  name: string,
  approved: boolean,
  options: DecisionOptions,
): Promise<"recorded" | "settled"> {
  const decision = checkedDecision(runId, name, approved, options);
  const result: DecideResult = await parts.store.decide(runId, name, decision, parts.clock.now());
  switch (result.kind) {
    case "not_found": {
      const run = await parts.store.getRun(runId);
      if (run === null) throw new RunNotFoundError(`cannot decide: no run has the id '${runId}'`);
      throw new ApprovalNotFoundError(
        `run ${runId} has no approval named '${name}'; engine.approvals() lists the open ones`,
      );
    }
    case "already_ended":
      throw new ApprovalDecidedError(
        `approval '${name}' of run ${runId} has already ended (${result.wait.status}); a decision is applied once`,
      );
    case "refused":
      if (result.reason.includes("already decided"))
        throw new ApprovalDecidedError(`${result.reason} (run ${runId}, approval '${name}')`);
      throw new ApprovalNotAllowedError(`${result.reason} (run ${runId}, approval '${name}')`);
    case "recorded":
      return "recorded";
    case "settled":
      parts.woke([{ runId, position: result.wait.position }]);
      return "settled";
  }
}

/** Checks a decision at the boundary: who, an optional role, an optional bounded comment. */
function checkedDecision(
  runId: string,
  name: string,
  approved: boolean,
  options: DecisionOptions,
): { by: string; approved: boolean; comment: string | null; role: string | null } {
  checkRunId(runId);
  checkName(name, "approval name");
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("a decision needs { by }: who decides");
  }
  checkText(options.by, "decision by (who decides)", DECIDER_LENGTH_MAX);
  const comment = options.comment ?? null;
  if (comment !== null)
    checkText(comment, "decision comment", COMMENT_LENGTH_MAX, { emptyOk: true });
  const role = options.role ?? null;
  if (role !== null) checkText(role, "decision role", DECIDER_LENGTH_MAX);
  return { by: options.by, approved, comment, role };
}

/** Turns a stored approval into what users see. */
export function toPendingApproval(record: ApprovalRecord): PendingApproval {
  const rules = decodeValue(record.wait.details ?? "{}") as {
    title: string;
    details?: unknown;
    approvers: string[];
    role: string | null;
    quorum: number;
  };
  return {
    runId: record.wait.runId,
    workflow: record.workflow,
    name: record.wait.target,
    title: rules.title,
    details: rules.details,
    approvers: [...rules.approvers, ...record.wait.addedApprovers],
    escalatedTo: [...record.wait.addedApprovers],
    role: rules.role,
    quorum: rules.quorum,
    decisions: record.decisions.map((d) => ({
      by: d.by,
      approved: d.approved,
      comment: d.comment,
      at: new Date(d.at),
    })),
    requestedAt: new Date(record.wait.createdAt),
    timesOutAt: new Date(record.wait.timeoutAt),
  };
}
