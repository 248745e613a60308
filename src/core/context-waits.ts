// Deterministic: checks the options of waits (events, signals, approvals) and their policy
// ladders, turning them into what the wait operation runs.
import type { ApprovalRules } from "./approval-rules.js";
import { parseDuration } from "./duration.js";
import { InvalidArgumentError } from "./errors.js";
import { APPROVERS_MAX, WAIT_POLICY_RUNGS_MAX } from "./limits.js";
import { canonicalMatch } from "./match.js";
import { encodeValue } from "./serialize.js";
import type {
  ApprovalOptions,
  WaitForEventOptions,
  WaitOptions,
  WaitPolicy,
  WaitPolicyRung,
} from "./types.js";
import type { CheckedRung, WaitSpec } from "./wait-op.js";
import { checkName } from "./workflow.js";

function timeoutOf(options: WaitOptions, what: string, defaultMs: number): number {
  const ms =
    options.timeout === undefined ? defaultMs : parseDuration(options.timeout, `${what} timeout`);
  if (ms <= 0) throw new InvalidArgumentError(`${what} timeout must be longer than 0`);
  return ms;
}

function policyOf(policy: WaitPolicy | undefined, what: string, approval: boolean): CheckedRung[] {
  if (policy === undefined) return [];
  if (!Array.isArray(policy))
    throw new InvalidArgumentError(`${what} policy must be an array of rungs`);
  if (policy.length > WAIT_POLICY_RUNGS_MAX) {
    throw new InvalidArgumentError(
      `${what} policy has ${policy.length} rungs; at most ${WAIT_POLICY_RUNGS_MAX} are allowed`,
    );
  }
  const rungs = (policy as WaitPolicy).map((rung: WaitPolicyRung, i) => {
    const afterMs = parseDuration(rung.after, `${what} policy rung ${i + 1} 'after'`);
    if (!["remind", "escalate", "resolve", "expire"].includes(rung.action)) {
      throw new InvalidArgumentError(
        `${what} policy rung ${i + 1} has an unknown action '${String(rung.action)}'; use remind, escalate, resolve or expire`,
      );
    }
    if (
      rung.action === "escalate" &&
      (!approval || !Array.isArray(rung.to) || rung.to.length === 0)
    ) {
      throw new InvalidArgumentError(
        `${what} policy rung ${i + 1}: escalate applies to approvals and needs 'to', a list of approvers`,
      );
    }
    if (
      rung.action === "resolve" &&
      approval &&
      rung.decision !== "approved" &&
      rung.decision !== "rejected"
    ) {
      throw new InvalidArgumentError(
        `${what} policy rung ${i + 1}: resolve on an approval needs decision 'approved' or 'rejected'`,
      );
    }
    return { afterMs, rung };
  });
  for (let i = 1; i < rungs.length; i++) {
    if ((rungs[i]?.afterMs ?? 0) < (rungs[i - 1]?.afterMs ?? 0))
      throw new InvalidArgumentError(`${what} policy rungs must be in order of 'after'`);
  }
  return rungs;
}

/** Checked wait specifications, one per kind of wait. */
export const checkedWait = {
  event(name: string, options: WaitForEventOptions<unknown>, defaultTimeoutMs: number): WaitSpec {
    const what = `waitForEvent '${name}'`;
    if (typeof options !== "object" || options === null)
      throw new InvalidArgumentError(`${what} needs options with the event to wait for`);
    const definition = typeof options.event === "string" ? null : options.event;
    const target = typeof options.event === "string" ? options.event : options.event?.name;
    checkName(target, `${what} event name`);
    return {
      kind: "event",
      target,
      match: canonicalMatch(options.match, what, definition?.fields ?? null),
      timeoutMs: timeoutOf(options, what, defaultTimeoutMs),
      policy: policyOf(options.policy, what, false),
      details: null,
      title: null,
      shape: definition?.shape ?? null,
    };
  },

  signal(name: string, options: WaitOptions, defaultTimeoutMs: number): WaitSpec {
    const what = `waitForSignal '${name}'`;
    return {
      kind: "signal",
      target: name,
      match: null,
      timeoutMs: timeoutOf(options, what, defaultTimeoutMs),
      policy: policyOf(options.policy, what, false),
      details: null,
      title: null,
    };
  },

  approval(name: string, options: ApprovalOptions, defaultTimeoutMs: number): WaitSpec {
    const what = `approval '${name}'`;
    if (
      typeof options !== "object" ||
      options === null ||
      typeof options.title !== "string" ||
      options.title.length === 0
    ) {
      throw new InvalidArgumentError(`${what} needs a title: what people are asked to decide`);
    }
    const approvers = [...(options.approvers ?? [])];
    if (
      approvers.length > APPROVERS_MAX ||
      approvers.some((a) => typeof a !== "string" || a.length === 0)
    ) {
      throw new InvalidArgumentError(
        `${what} approvers must be at most ${APPROVERS_MAX} non-empty names`,
      );
    }
    const quorum = options.quorum ?? 1;
    if (
      !Number.isInteger(quorum) ||
      quorum < 1 ||
      (approvers.length > 0 && quorum > approvers.length)
    ) {
      throw new InvalidArgumentError(
        `${what} quorum must be a whole number from 1 to the number of approvers (${approvers.length || "any"}), got ${String(quorum)}`,
      );
    }
    const rules: ApprovalRules = {
      title: options.title,
      approvers,
      role: options.role ?? null,
      quorum,
    };
    return {
      kind: "approval",
      target: name,
      match: null,
      timeoutMs: timeoutOf(options, what, defaultTimeoutMs),
      policy: policyOf(options.policy, what, true),
      details: encodeValue({ ...rules, details: options.details }, `${what} details`),
      title: options.title,
    };
  },
};
