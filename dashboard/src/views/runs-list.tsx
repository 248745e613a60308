// The runs list: filters, search by id, cursor paging, and the first page kept live over SSE.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ExplanationView, RunListFilter, RunView } from "endure/client";
import { messageOf, useSession } from "../api.ts";
import { formatAge, formatCost, formatDuration, formatTokens, toMs } from "../format.ts";
import { CLOCK_TICK_MS, RUNS_PAGE_SIZE, WAITS_EXPLAINED_MAX } from "../limits.ts";
import { hrefOf } from "../route.ts";
import { useNow } from "../use-async.ts";
import { Status } from "./status.tsx";

const STATUSES = [
  "pending",
  "running",
  "waiting",
  "paused",
  "completed",
  "failed",
  "cancelled",
  "timed_out",
] as const;
const SINCE: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };

interface Filters {
  status: string;
  workflow: string;
  since: string;
  id: string;
}

function toFilter(f: Filters, cursor: string | null): RunListFilter {
  const since = SINCE[f.since];
  return {
    limit: RUNS_PAGE_SIZE,
    ...(f.status === "" ? {} : { status: f.status as RunView["status"] }),
    ...(f.workflow.trim() === "" ? {} : { workflow: f.workflow.trim() }),
    ...(f.id.trim() === "" ? {} : { idContains: f.id.trim() }),
    ...(since === undefined ? {} : { createdAfter: new Date(Date.now() - since) }),
    ...(cursor === null ? {} : { cursor }),
  };
}

export function RunsList() {
  const { client } = useSession();
  const [filters, setFilters] = useState<Filters>({ status: "", workflow: "", since: "", id: "" });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const [runs, setRuns] = useState<RunView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const now = useNow(CLOCK_TICK_MS);
  const filter = useMemo(() => toFilter(filters, cursor), [filters, cursor]);

  useEffect(() => {
    let current = true;
    const started = performance.now();
    client.listRuns(filter).then(
      (page) => {
        if (!current) return;
        setRuns(page.runs);
        setNext(page.next);
        setError(null);
        performance.measure("endure:runs-list", { start: started });
      },
      (e: unknown) => current && setError(messageOf(e)),
    );
    return () => {
      current = false;
    };
  }, [client, filter]);

  // The first page follows changes live; later pages stay as read.
  useEffect(() => {
    if (cursor !== null) return;
    const abort = new AbortController();
    void (async () => {
      try {
        setLive(true);
        for await (const run of client.followRuns(toFilter(filters, null), {
          signal: abort.signal,
        }))
          setRuns((old) => upsert(old ?? [], run));
      } catch (e) {
        if (!abort.signal.aborted) setError(`Live updates stopped: ${messageOf(e)}`);
      } finally {
        setLive(false);
      }
    })();
    return () => abort.abort();
  }, [client, filters, cursor]);

  const waits = useWaits(runs ?? []);
  const change = (patch: Partial<Filters>): void => {
    setFilters((f) => ({ ...f, ...patch }));
    setCursors([null]);
  };

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form class="row" role="search" onSubmit={(e) => e.preventDefault()} aria-label="Filter runs">
        <label>
          Search by id
          <input
            type="search"
            value={filters.id}
            onInput={(e) => change({ id: e.currentTarget.value })}
            placeholder="order-42"
          />
        </label>
        <label>
          Status
          <select
            value={filters.status}
            onChange={(e) => change({ status: e.currentTarget.value })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s.replace("_", " ")}</option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <input
            value={filters.workflow}
            onChange={(e) => change({ workflow: e.currentTarget.value })}
            placeholder="any"
          />
        </label>
        <label>
          Started
          <select value={filters.since} onChange={(e) => change({ since: e.currentTarget.value })}>
            <option value="">any time</option>
            <option value="1h">in the last hour</option>
            <option value="24h">in the last 24 hours</option>
            <option value="7d">in the last 7 days</option>
          </select>
        </label>
        <span class="muted" role="status" aria-live="polite">
          {live ? "● live" : cursor === null ? "" : "page read at open"}
        </span>
      </form>
      {error !== null && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap" style={{ marginTop: "12px" }}>
        <table class="runs" aria-label="Runs" aria-busy={runs === null}>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Id</th>
              <th scope="col">Age</th>
              <th scope="col" class="num wide">
                Duration
              </th>
              <th scope="col" class="wide">
                Current wait
              </th>
              <th scope="col" class="num wide">
                Tokens
              </th>
              <th scope="col" class="num">
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {(runs ?? []).map((run) => (
              <RunRow run={run} now={now} wait={waits.get(run.id)} />
            ))}
          </tbody>
        </table>
      </div>
      {runs !== null && runs.length === 0 && <p class="muted">No runs match.</p>}
      <div class="row" style={{ marginTop: "10px" }}>
        <button
          type="button"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={next === null}
          onClick={() => next !== null && setCursors((c) => [...c, next])}
        >
          Older
        </button>
        <span class="muted">Page {cursors.length}</span>
      </div>
    </section>
  );
}

function RunRow({ run, now, wait }: { run: RunView; now: number; wait: string | undefined }) {
  const created = toMs(run.createdAt) ?? now;
  const ended = toMs(run.endedAt);
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  return (
    <tr data-run={run.id}>
      <td>
        <Status status={run.status} />
      </td>
      <td>{run.workflow}</td>
      <td>
        <a class="mono" href={hrefOf({ view: "run", id: run.id, tab: "timeline" })}>
          {run.id}
        </a>
      </td>
      <td title={run.createdAt}>{formatAge(created, now)}</td>
      <td class="num wide">{formatDuration((ended ?? now) - created)}</td>
      <td class="wait wide">{run.status === "waiting" ? (wait ?? "…") : ""}</td>
      <td class="num wide">{tokens === 0 ? "" : formatTokens(tokens)}</td>
      <td class="num">{run.usage.costUsd === 0 ? "" : formatCost(run.usage.costUsd)}</td>
    </tr>
  );
}

function upsert(runs: RunView[], run: RunView): RunView[] {
  const rest = runs.filter((r) => r.id !== run.id);
  const merged = [run, ...rest].sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0,
  );
  return merged.slice(0, RUNS_PAGE_SIZE);
}

/**
 * What each waiting run of the page waits for, from its explanation: asked once per run and
 * change (`updatedAt`), however often the page re-renders or its live updates arrive.
 */
function useWaits(runs: readonly RunView[]): Map<string, string> {
  const { client } = useSession();
  const known = useRef(new Map<string, string>());
  const asked = useRef(new Set<string>());
  const [, setAnswered] = useState(0);
  const waiting = runs.filter((r) => r.status === "waiting").slice(0, WAITS_EXPLAINED_MAX);
  const keyOf = (r: RunView): string => `${r.id}@${String(r.updatedAt)}`;
  const keys = waiting.map(keyOf);
  useEffect(() => {
    const missing = waiting.filter((r) => !asked.current.has(keyOf(r)));
    if (missing.length === 0) return;
    for (const r of missing) asked.current.add(keyOf(r));
    void Promise.all(
      missing.map(async (r) => [keyOf(r), describeWait(await client.explain(r.id))] as const),
    ).then(
      (pairs) => {
        for (const [k, text] of pairs) known.current.set(k, text);
        // Only the page's current runs are kept.
        const current = new Set(keys);
        for (const k of known.current.keys()) if (!current.has(k)) known.current.delete(k);
        for (const k of asked.current) if (!current.has(k)) asked.current.delete(k);
        setAnswered((n) => n + 1);
      },
      () => {
        for (const r of missing) asked.current.delete(keyOf(r));
      },
    );
  }, [client, keys.join(",")]);
  const waits = new Map<string, string>();
  for (const r of waiting) {
    const text = known.current.get(keyOf(r));
    if (text !== undefined) waits.set(r.id, text);
  }
  return waits;
}

/** A short name of what a run waits for: "approval 'publish'", "event 'paid'", "sleep until …". */
export function describeWait(x: ExplanationView): string {
  const s = x.state as Record<string, unknown> & { kind: string };
  switch (s.kind) {
    case "waiting_for_approval":
      return `approval '${String(s.approval)}'`;
    case "waiting_for_event":
      return `event '${String(s.event)}'`;
    case "waiting_for_signal":
      return `signal '${String(s.signal)}'`;
    case "sleeping":
      return `sleep '${String(s.sleep)}'`;
    default:
      return x.sentence;
  }
}
