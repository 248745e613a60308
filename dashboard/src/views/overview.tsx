// The overview: runs by status, runs started and model tokens per minute over the last half
// hour, failures of the last hour and the oldest waits, as small charts. It reads bounded
// pages of the API (counts past a page show as "200+"), never the whole store.
import type { ApprovalView, RunView } from "endure/client";
import { messageOf, useSession } from "../api.ts";
import { formatAge, formatTokens, toMs } from "../format.ts";
import { OVERVIEW_SAMPLE_RUNS } from "../limits.ts";
import { hrefOf } from "../route.ts";
import { useAsync } from "../use-async.ts";
import { Status } from "./status.tsx";

const STATUSES = [
  "running",
  "waiting",
  "paused",
  "failed",
  "completed",
  "cancelled",
  "timed_out",
  "pending",
] as const;
const MINUTE_MS = 60_000;
/** Minutes the per-minute charts cover. */
export const OVERVIEW_MINUTES = 30;

interface Stats {
  counts: { status: string; n: number; more: boolean }[];
  recent: RunView[];
  failures: RunView[];
  oldestWaiting: RunView[];
  at: number;
}

export function Overview({ approvals }: { approvals: ApprovalView[] | undefined }) {
  const { client } = useSession();
  const stats = useAsync(async (): Promise<Stats> => {
    const at = Date.now();
    const pages = await Promise.all(
      STATUSES.map((status) => client.listRuns({ status, limit: OVERVIEW_SAMPLE_RUNS })),
    );
    const recent = await client.listRuns({
      createdAfter: new Date(at - OVERVIEW_MINUTES * MINUTE_MS),
      limit: OVERVIEW_SAMPLE_RUNS,
    });
    const failed = pages[STATUSES.indexOf("failed")]?.runs ?? [];
    const waiting = pages[STATUSES.indexOf("waiting")]?.runs ?? [];
    return {
      counts: STATUSES.map((status, i) => ({
        status,
        n: pages[i]?.runs.length ?? 0,
        more: pages[i]?.next != null,
      })),
      recent: recent.runs,
      failures: failed.filter((r) => (toMs(r.endedAt) ?? 0) > at - 60 * MINUTE_MS),
      oldestWaiting: [...waiting].sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1)).slice(0, 5),
      at,
    };
  }, [client]);
  const s = stats.value;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {stats.error !== null && (
        <p class="error-box" role="alert">
          {messageOf(stats.error)}
        </p>
      )}
      {s === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <>
          <div class="cards" aria-label="Runs by status">
            {s.counts.map((c) => (
              <a
                class="card"
                href={hrefOf({ view: "runs" })}
                style={{ textDecoration: "none", color: "inherit" }}
              >
                <div class="n">
                  {c.n}
                  {c.more ? "+" : ""}
                </div>
                <Status status={c.status} />
              </a>
            ))}
          </div>
          <div class="charts" style={{ marginTop: "12px" }}>
            <Chart
              title={`Runs started per minute (last ${OVERVIEW_MINUTES} min)`}
              values={perMinute(
                s.recent,
                s.at,
                (r) => toMs(r.createdAt),
                () => 1,
              )}
            />
            <Chart
              title={`Model tokens per minute, by run end (last ${OVERVIEW_MINUTES} min)`}
              values={perMinute(
                s.recent,
                s.at,
                (r) => toMs(r.endedAt),
                (r) => r.usage.inputTokens + r.usage.outputTokens,
              )}
              format={formatTokens}
            />
          </div>
          <div class="charts">
            <div>
              <h2>Failures in the last hour ({s.failures.length})</h2>
              <RunLinks runs={s.failures} at={s.at} when={(r) => toMs(r.endedAt)} />
            </div>
            <div>
              <h2>Oldest waits</h2>
              {(approvals ?? []).slice(0, 5).map((a) => (
                <p>
                  approval <b>{a.title === "" ? a.name : a.title}</b> on{" "}
                  <a class="mono" href={hrefOf({ view: "run", id: a.runId, tab: "timeline" })}>
                    {a.runId}
                  </a>
                  , {formatAge(toMs(a.requestedAt) ?? s.at, s.at)}
                </p>
              ))}
              <RunLinks runs={s.oldestWaiting} at={s.at} when={(r) => toMs(r.updatedAt)} />
            </div>
          </div>
        </>
      )}
    </section>
  );
}

function RunLinks({
  runs,
  at,
  when,
}: {
  runs: RunView[];
  at: number;
  when: (r: RunView) => number | null;
}) {
  if (runs.length === 0) return <p class="muted">None.</p>;
  return (
    <ul>
      {runs.map((r) => (
        <li>
          <a class="mono" href={hrefOf({ view: "run", id: r.id, tab: "timeline" })}>
            {r.id}
          </a>{" "}
          ({r.workflow}) {formatAge(when(r) ?? at, at)}
        </li>
      ))}
    </ul>
  );
}

/** Sums `value` of the runs per minute over the last OVERVIEW_MINUTES, oldest first. */
export function perMinute(
  runs: RunView[],
  now: number,
  when: (r: RunView) => number | null,
  value: (r: RunView) => number,
): number[] {
  const buckets = new Array<number>(OVERVIEW_MINUTES).fill(0);
  for (const r of runs) {
    const t = when(r);
    if (t === null) continue;
    const ago = Math.floor((now - t) / MINUTE_MS);
    if (ago >= 0 && ago < OVERVIEW_MINUTES) buckets[OVERVIEW_MINUTES - 1 - ago]! += value(r);
  }
  return buckets;
}

function Chart({
  title,
  values,
  format = String,
}: {
  title: string;
  values: number[];
  format?: (n: number) => string;
}) {
  const max = Math.max(1, ...values);
  const w = 300;
  const h = 64;
  const step = w / Math.max(1, values.length - 1);
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(h - 4 - (v / max) * (h - 8)).toFixed(1)}`,
  );
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <figure class="panel" style={{ margin: 0 }}>
      <figcaption>
        {title}: <b>{format(total)}</b> in all, at most{" "}
        <b>{format(max === 1 && total === 0 ? 0 : max)}</b> a minute
      </figcaption>
      <svg
        class="spark"
        viewBox={`0 0 ${w} ${h}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${title}, oldest first: ${values.join(", ")}`}
      >
        <polygon class="area" points={`0,${h} ${points.join(" ")} ${w},${h}`} />
        <polyline class="line" points={points.join(" ")} />
      </svg>
    </figure>
  );
}
