// Claiming runs on SQLite: one writer, so a claim is a plain read and update inside the
// store's write transaction.
import type Database from "better-sqlite3";
import type { ClaimedRun, ClaimRequest } from "../store.js";
import { fullSlots, pickWithinLimits, slotOf, type ClaimCandidate } from "../flow-control.js";
import { toRunRecord as toRecord, type RunRow } from "../sql-rows.js";
import type { Statements } from "./statements.js";

/**
 * Claims runnable runs for a worker within its concurrency limits: its own running runs when
 * recovering, runs whose owner's lease expired or whose process died, then pending and due
 * runs by priority. Call inside a write transaction.
 */
export function claimRuns(st: Statements, r: ClaimRequest): ClaimedRun[] {
  const running = new Map<string, number>();
  const limited = r.workflows.filter((w) => r.concurrency[w] !== undefined);
  if (limited.length > 0) {
    const counts = st.runningByKey.all(JSON.stringify(limited)) as Array<{
      workflow: string;
      key: string;
      n: number;
    }>;
    for (const c of counts) running.set(slotOf(c.workflow, c.key), c.n);
  }
  const args = {
    workflows: JSON.stringify(r.workflows),
    me: r.workerId,
    now: r.now,
    limit: r.limit,
    full: JSON.stringify(fullSlots(running, r)),
    versions: versionPairs(r),
    graceBefore: r.now - (r.versionGraceMs ?? 0),
  };
  type Row = Omit<ClaimCandidate, "takeover"> & { priority?: number; ord?: number };
  const all = (st: Database.Statement, takeover: boolean): Array<Row & ClaimCandidate> =>
    (st.all(args) as Row[]).map((row) => ({ ...row, takeover }));
  const runnable = [...all(st.claimPending, false), ...all(st.claimDue, false)].sort(
    (a, b) => (b.priority ?? 0) - (a.priority ?? 0) || (a.ord ?? 0) - (b.ord ?? 0),
  );
  const sweep = r.sweep !== false || r.recovering;
  const candidates = [
    ...(r.recovering ? all(st.claimOwn, true) : []),
    ...(sweep ? all(st.claimOrphaned, true) : []),
    ...runnable,
    ...(r.recovering ? all(st.claimDiverged, false) : []),
    ...(r.versions === undefined || !sweep ? [] : all(st.claimVersionless, false)),
  ];
  const found = pickWithinLimits(candidates, r, running);
  const lease = r.now + r.leaseMs;
  return found.map(({ id, takeover }) => {
    let recoveries = 0;
    let mark = (st.runRow.get(id) as { progress_mark: number; recoveries: number }) ?? {
      progress_mark: 0,
      recoveries: 0,
    };
    if (takeover) {
      const progress = (st.progress.get(id) as { p: number | null }).p ?? 0;
      recoveries = progress > mark.progress_mark ? 1 : mark.recoveries + 1;
      mark = { progress_mark: progress, recoveries };
    }
    const row = st.claimRun.get({
      id,
      me: r.workerId,
      pid: process.pid,
      lease,
      now: r.now,
      recoveries,
      mark: mark.progress_mark,
    }) as RunRow;
    return { run: toRecord(row), takeover };
  });
}

/** The versions a claim asks for as JSON [workflow, version] pairs, or null for any. */
function versionPairs(r: ClaimRequest): string | null {
  if (r.versions === undefined) return null;
  return JSON.stringify(
    Object.entries(r.versions).flatMap(([name, versions]) => versions.map((v) => [name, v])),
  );
}
