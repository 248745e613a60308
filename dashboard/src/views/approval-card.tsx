// One open approval: what is being approved (title and details in full), who may decide (and
// whom its escalations added), how long it has waited and when it times out; approve or
// reject with a comment.
import { useState } from "preact/hooks";
import type { ApprovalView } from "endure/client";
import { refusal, useSession } from "../api.ts";
import { formatAge, formatDuration, formatTime, toMs } from "../format.ts";
import { hrefOf } from "../route.ts";
import { ActionDialog, textField } from "./dialog.tsx";
import { JsonView } from "./json-view.tsx";

export function ApprovalCard({
  approval,
  now,
  onDone,
}: {
  approval: ApprovalView;
  now: number;
  onDone: () => void;
}) {
  const session = useSession();
  const [deciding, setDeciding] = useState<"approve" | "reject" | null>(null);
  const requested = toMs(approval.requestedAt) ?? now;
  const timesOut = toMs(approval.timesOutAt);
  const who = [
    ...(approval.approvers.length > 0 ? [approval.approvers.join(", ")] : []),
    ...(approval.role !== null ? [`role ${approval.role}`] : []),
  ];
  const denied = refusal(session, "decide");
  const title = approval.title === "" ? approval.name : approval.title;
  return (
    <article
      class="panel approval"
      aria-label={`Approval ${title}`}
      data-approval={`${approval.runId}/${approval.name}`}
    >
      <h3>{title}</h3>
      <div class="facts">
        <span>
          run{" "}
          <a class="mono" href={hrefOf({ view: "run", id: approval.runId, tab: "timeline" })}>
            {approval.runId}
          </a>{" "}
          ({approval.workflow})
        </span>
        <span>
          waiting <b>{formatAge(requested, now).replace(" ago", "")}</b>
        </span>
        {timesOut !== null && (
          <span title={formatTime(timesOut)}>
            times out in <b>{formatDuration(timesOut - now)}</b>
          </span>
        )}
        <span>
          may decide <b>{who.length === 0 ? "anyone with an approver token" : who.join("; ")}</b>
        </span>
        {approval.escalatedTo.length > 0 && (
          <span class="escalated">
            escalated to <b>{approval.escalatedTo.join(", ")}</b>
          </span>
        )}
        {approval.quorum > 1 && (
          <span>
            decisions <b>{approval.decisions.length}</b> of <b>{approval.quorum}</b>
          </span>
        )}
      </div>
      {approval.details !== null && approval.details !== undefined && (
        <JsonView value={approval.details} label={`Details of ${title}`} />
      )}
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={denied !== undefined}
          title={denied}
          onClick={() => setDeciding("approve")}
        >
          Approve…
        </button>
        <button
          type="button"
          disabled={denied !== undefined}
          title={denied}
          onClick={() => setDeciding("reject")}
        >
          Reject…
        </button>
      </div>
      {deciding !== null && (
        <ActionDialog
          title={`${deciding === "approve" ? "Approve" : "Reject"}: ${title}`}
          confirm={deciding === "approve" ? "Approve" : "Reject"}
          danger={deciding === "reject"}
          onClose={() => setDeciding(null)}
          onConfirm={async (f) => {
            const comment = textField(f, "comment");
            const options = comment === "" ? {} : { comment };
            if (deciding === "approve")
              await session.client.approve(approval.runId, approval.name, options);
            else await session.client.reject(approval.runId, approval.name, options);
            onDone();
          }}
        >
          <p>
            You decide as <b>{session.name}</b>, on run <span class="mono">{approval.runId}</span>.
            This cannot be undone.
          </p>
          {approval.details !== null && approval.details !== undefined && (
            <JsonView value={approval.details} label="What is being decided" />
          )}
          <label>
            Comment (kept in the run's journal)
            <textarea name="comment" />
          </label>
        </ActionDialog>
      )}
    </article>
  );
}
