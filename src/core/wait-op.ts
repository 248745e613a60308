// Deterministic: a wait for something outside the run (an event, a signal, people), with a
// timeout and a ladder of policy rungs (remind, escalate, resolve, expire), each journaled.
import { entryData, readEntryData } from "./entry-data.js";
import { decodeValue, encodeValue } from "./serialize.js";
import { recordedVersion, type PayloadShape } from "./shapes.js";
import type { JournalEntry } from "./journal.js";
import type { Op, OpScope } from "./op.js";
import type { CanonicalMatch } from "./match.js";
import { childResult } from "./child-op.js";
import type { ChildRequest, WaitKind, WaitOutcome } from "./run-port.js";
import type { WaitPolicyRung } from "./types.js";
import { encodeReceivedEvent, encodeReceivedSignal } from "./wait-values.js";

/** Event name of reminders a wait's policy sends. */
export const REMINDER_EVENT = "endure.wait.reminder";
/** Event name sent when an approval is escalated. */
export const ESCALATION_EVENT = "endure.wait.escalated";

/** A rung with its delay checked, in ms after the wait began. */
export interface CheckedRung {
  readonly afterMs: number;
  readonly rung: WaitPolicyRung;
}

/** Everything a wait needs, checked by the context before the wait begins. */
export interface WaitSpec {
  readonly kind: WaitKind;
  readonly target: string;
  readonly match: CanonicalMatch | null;
  readonly timeoutMs: number;
  readonly policy: readonly CheckedRung[];
  /** Encoded approval rules and details, or null. */
  readonly details: string | null;
  /** Shown in reminders: an approval's title. */
  readonly title: string | null;
  /** The shape of an event's data, when its definition declares one. */
  readonly shape?: PayloadShape | null;
  /** A child wait's run, created with the wait (`ctx.invoke`). */
  readonly child?: ChildRequest;
}

interface Started {
  readonly startedAt: number;
  readonly timeoutAt: number;
}

/** Runs wait `op` until it ends, then hands its value to the code. */
export async function runWait(
  scope: OpScope,
  op: Op,
  spec: WaitSpec,
  prior: readonly JournalEntry[] | undefined,
): Promise<void> {
  const started = await begin(scope, op, spec, prior);
  if (started === null) return;
  let applied = (prior ?? []).filter(
    (e) => e.type === "wait_reminded" || e.type === "wait_escalated",
  ).length;
  const release = scope.externalWaitStarted();
  const withdrawn = scope.withdrawal(op.position).then(() => null);
  try {
    for (;;) {
      const next = spec.policy[applied];
      const rungAt = next === undefined ? Infinity : started.startedAt + next.afterMs;
      const timerAt = Math.min(rungAt, started.timeoutAt);
      const winner = await Promise.race([
        scope.port.waitOutcome(op.position).then((outcome) => ({ outcome })),
        scope.waitUntil(op.position, timerAt).then(() => null),
        withdrawn,
      ]);
      if (scope.ended || !scope.isCurrent(op)) return;
      let outcome: WaitOutcome | null = winner?.outcome ?? null;
      if (outcome !== null) scope.cancelTimer(op.position);
      else if (next !== undefined && rungAt <= started.timeoutAt) {
        outcome = await applyRung(scope, op, spec, next.rung, applied + 1, started);
        applied++;
      } else {
        outcome = await scope.port.closeWait(op.position, { status: "timed_out" });
      }
      if (scope.ended || !scope.isCurrent(op)) return;
      if (outcome === null) continue;
      // Withdrawn by a combinator whose decision a crash lost: the replay decides again, and
      // this wait, cancelled in the store, takes no part.
      if (outcome.status === "cancelled") return;
      settle(scope, op, spec, outcome);
      return;
    }
  } finally {
    release();
  }
}

/** Creates the wait (first execution) or reads when it began (replay); null if halted. */
async function begin(
  scope: OpScope,
  op: Op,
  spec: WaitSpec,
  prior: readonly JournalEntry[] | undefined,
): Promise<Started | null> {
  const recorded = prior?.find((e) => e.type === "wait_started");
  if (recorded !== undefined) {
    const data = readEntryData(recorded, "wait_started");
    return { startedAt: recorded.at, timeoutAt: data.timeoutAt };
  }
  const startedAt = scope.port.clock.now();
  const timeoutAt = startedAt + spec.timeoutMs;
  const policy =
    spec.policy.length === 0
      ? null
      : encodeValue(
          spec.policy.map((r) => ({ ...r.rung, afterMs: r.afterMs })),
          "wait policy",
        );
  scope.append({
    type: "wait_started",
    at: startedAt,
    position: op.position,
    key: op.key,
    data: entryData.wait_started({
      kind: spec.kind,
      target: spec.target,
      timeoutAt,
      match: spec.match,
      policy,
      site: op.site,
      ...(spec.child === undefined ? {} : { workflow: spec.child.workflow }),
    }),
  });
  // A child run commits with the wait that waits for it: neither exists without the other.
  if (spec.child !== undefined) scope.port.startChild(spec.child);
  scope.port.createWait({
    position: op.position,
    key: op.key,
    kind: spec.kind,
    target: spec.target,
    match: spec.match,
    timeoutAt,
    details: spec.details,
  });
  // The wait row and its timeout commit with the entry, before anything may wake it.
  await scope.port.durable();
  return scope.ended || !scope.isCurrent(op) ? null : { startedAt, timeoutAt };
}

async function applyRung(
  scope: OpScope,
  op: Op,
  spec: WaitSpec,
  rung: WaitPolicyRung,
  n: number,
  started: Started,
): Promise<WaitOutcome | null> {
  const at = scope.port.clock.now();
  switch (rung.action) {
    case "remind":
    case "escalate": {
      if (rung.action === "escalate") await scope.port.addApprovers(op.position, rung.to);
      const name = rung.action === "remind" ? REMINDER_EVENT : ESCALATION_EVENT;
      const id = `${scope.runId}/${op.key}/${rung.action}-${n}`;
      const data = {
        runId: scope.runId,
        wait: op.key,
        kind: spec.kind,
        target: spec.target,
        title: spec.title,
        rung: n,
        since: new Date(started.startedAt),
        timeoutAt: new Date(started.timeoutAt),
        ...(rung.action === "escalate" ? { to: rung.to } : {}),
      };
      await scope.port.sendEvent({ id, name, data: encodeValue(data, `${name} data`) });
      const type = rung.action === "remind" ? "wait_reminded" : "wait_escalated";
      scope.append({
        type,
        at,
        position: op.position,
        key: op.key,
        data: entryData[type]({
          rung: n,
          event: id,
          ...(rung.action === "escalate" ? { to: [...rung.to] } : {}),
        }),
      });
      return null;
    }
    case "resolve":
      if (spec.kind === "approval") {
        return scope.port.closeWait(op.position, {
          status: "resolved",
          value: null,
          approved: rung.decision === "approved",
        });
      }
      return scope.port.closeWait(op.position, {
        status: "resolved",
        value: policyValue(scope, op, spec, rung.value, at),
      });
    case "expire":
      return scope.port.closeWait(op.position, { status: "timed_out" });
  }
}

/** The value an event or signal wait resolved by its policy hands to the code. */
function policyValue(scope: OpScope, op: Op, spec: WaitSpec, value: unknown, at: number): string {
  const data = encodeValue(value, `wait '${op.key}' policy value`);
  return spec.kind === "signal"
    ? encodeReceivedSignal(spec.target, data, at)
    : encodeReceivedEvent(`${scope.runId}/${op.key}/policy`, spec.target, data, at);
}

function settle(scope: OpScope, op: Op, spec: WaitSpec, outcome: WaitOutcome): void {
  if (spec.child !== undefined) {
    settleChild(scope, op, spec.child, outcome);
    return;
  }
  const result = outcome.value ?? "null";
  scope.append({
    type: "wait_completed",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.wait_completed({
      status: outcome.status,
      shape: result === "null" ? undefined : recordedVersion(op.shape),
      result,
    }),
  });
  const value = decodeValue(result);
  scope.settleLive(op, () => op.resolve(value));
}

/** Hands the code its child's output, or the error of a child that did not complete. */
function settleChild(scope: OpScope, op: Op, child: ChildRequest, outcome: WaitOutcome): void {
  const ended = childResult(scope.runId, child, outcome);
  const at = scope.port.clock.now();
  const base = { type: "wait_completed" as const, at, position: op.position, key: op.key };
  if ("value" in ended) {
    const result = encodeValue(ended.value, `output of child run '${child.runId}'`);
    scope.append({ ...base, data: entryData.wait_completed({ status: outcome.status, result }) });
    scope.settleLive(op, () => op.resolve(decodeValue(result)));
    return;
  }
  const error = encodeValue(ended.error, `error of child run '${child.runId}'`);
  scope.append({
    ...base,
    data: entryData.wait_completed({ status: outcome.status, result: null, error }),
  });
  const thrown = decodeValue(error);
  scope.settleLive(op, () => op.reject(thrown), { failed: true });
}
