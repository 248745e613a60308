// The approvals inbox: every open approval across runs, oldest first.
import type { ApprovalView } from "endure/client";
import { messageOf } from "../api.ts";
import { CLOCK_TICK_MS } from "../limits.ts";
import { useNow } from "../use-async.ts";
import { ApprovalCard } from "./approval-card.tsx";

export function Approvals({
  approvals,
  error,
  reload,
}: {
  approvals: ApprovalView[] | undefined;
  error: unknown;
  reload: () => void;
}) {
  const now = useNow(CLOCK_TICK_MS);
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      {error !== null && error !== undefined && (
        <p class="error-box" role="alert">
          {messageOf(error)}
        </p>
      )}
      {approvals !== undefined && approvals.length === 0 && (
        <p class="muted">Nothing waits for a decision.</p>
      )}
      <div class="approvals">
        {(approvals ?? []).map((a) => (
          <ApprovalCard approval={a} now={now} onDone={reload} />
        ))}
      </div>
    </section>
  );
}
