// Deterministic: who may decide an approval, and when its decisions settle it. Stores apply
// these rules inside the transaction that records a decision.

/** What a store keeps about an approval to apply its rules. */
export interface ApprovalRules {
  readonly title: string;
  readonly approvers: readonly string[];
  readonly role: string | null;
  readonly quorum: number;
}

/** A decision as recorded. */
export interface RecordedDecision {
  readonly by: string;
  readonly approved: boolean;
  readonly comment: string | null;
  readonly role: string | null;
  readonly at: number;
}

/** Why a decision is refused, or null when it may be recorded. */
export function refusalOf(
  rules: ApprovalRules,
  decisions: readonly RecordedDecision[],
  by: string,
  role: string | null,
): string | null {
  if (by.length === 0) return "a decision needs `by`: who decides";
  if (decisions.some((d) => d.by === by)) return `${by} has already decided this approval`;
  if (rules.role !== null && role !== rules.role)
    return `deciding needs the role '${rules.role}', and the caller asserted ${role === null ? "none" : `'${role}'`}`;
  if (rules.approvers.length > 0 && !rules.approvers.includes(by)) {
    return `${by} is not among the approvers (${rules.approvers.join(", ")})`;
  }
  return null;
}

/** The outcome the decisions reach: a single rejection rejects; `quorum` approvals approve. */
export function verdictOf(
  rules: ApprovalRules,
  decisions: readonly RecordedDecision[],
): "approved" | "rejected" | null {
  if (decisions.some((d) => !d.approved)) return "rejected";
  return decisions.length >= rules.quorum ? "approved" : null;
}

/** The result a settled approval hands to the workflow (`at` in epoch ms). */
export function approvalResultOf(
  outcome: "approved" | "rejected" | "timed_out" | "resolved",
  decisions: readonly RecordedDecision[],
  at: number,
  approved = outcome === "approved",
) {
  const last =
    outcome === "approved" || outcome === "rejected" ? decisions[decisions.length - 1] : undefined;
  return {
    approved,
    outcome,
    by: last?.by ?? null,
    comment: last?.comment ?? null,
    at: new Date(at),
    decisions: decisions.map((d) => ({ ...d, at: new Date(d.at) })),
  };
}
