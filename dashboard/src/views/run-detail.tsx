// One run: the explain sentence on top, its facts and actions, its open approvals, and three
// tabs (timeline, conversation, raw journal), all following the run live until it ends.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { ApprovalView, ExplanationView, RunView } from "endure/client";
import { messageOf, toEntry, useSession } from "../api.ts";
import { formatCost, formatDuration, formatTime, formatTokens, toMs } from "../format.ts";
import { CLOCK_TICK_MS, JOURNAL_ENTRIES_MAX, JOURNAL_PAGE_SIZE } from "../limits.ts";
import { hrefOf, type RunTab } from "../route.ts";
import { buildTimeline, type Entry } from "../timeline.ts";
import { useNow } from "../use-async.ts";
import { ApprovalCard } from "./approval-card.tsx";
import { ConversationView } from "./conversation-view.tsx";
import { JsonView } from "./json-view.tsx";
import { RunActions } from "./run-actions.tsx";
import { Status } from "./status.tsx";
import { Waterfall } from "./waterfall.tsx";

export function RunDetail({
  id,
  tab,
  onChange,
}: {
  id: string;
  tab: RunTab;
  onChange: () => void;
}) {
  const { client } = useSession();
  const [run, setRun] = useState<RunView | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [explain, setExplain] = useState<ExplanationView | null>(null);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const now = useNow(CLOCK_TICK_MS);
  const refresh = (): void => {
    setTick((t) => t + 1);
    onChange();
  };

  useEffect(() => {
    const abort = new AbortController();
    setEntries([]);
    setError(null);
    const add = (more: Entry[]): void =>
      setEntries((old) => {
        const last = old[old.length - 1]?.seq ?? 0;
        const fresh = more.filter((e) => e.seq > last);
        return fresh.length === 0 ? old : [...old, ...fresh];
      });
    void (async () => {
      try {
        setRun(await client.getRun(id));
        let from: number | null = 1;
        let read = 0;
        while (from !== null && read < JOURNAL_ENTRIES_MAX && !abort.signal.aborted) {
          const page = await client.journal(id, { from, limit: JOURNAL_PAGE_SIZE });
          add(page.entries.map(toEntry));
          read += page.entries.length;
          from = page.next;
        }
        for await (const update of client.followRun(id, { signal: abort.signal })) {
          if (update.kind === "entry") add([toEntry(update.entry)]);
          else setRun(update.run);
        }
      } catch (e) {
        if (!abort.signal.aborted) setError(messageOf(e));
      }
    })();
    return () => abort.abort();
  }, [client, id, tick]);

  // The sentence and the open approvals follow the run's changes.
  const version = `${run?.status ?? ""}@${run?.updatedAt ?? ""}#${entries.length}`;
  useEffect(() => {
    let current = true;
    client.explain(id).then(
      (x) => current && setExplain(x),
      () => {},
    );
    client.approvals({ runId: id }).then(
      (a) => current && setApprovals(a),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [client, id, version]);

  const ops = useMemo(() => buildTimeline(entries), [entries]);
  if (run === null)
    return error === null ? (
      <p aria-busy="true">Loading run {id}…</p>
    ) : (
      <p class="error-box" role="alert">
        {error}
      </p>
    );
  const created = toMs(run.createdAt) ?? now;
  const ended = toMs(run.endedAt);
  const eventWait =
    explain?.state.kind === "waiting_for_event" ? String(explain.state.event) : undefined;
  const tabs: { tab: RunTab; label: string }[] = [
    { tab: "timeline", label: "Timeline" },
    { tab: "conversation", label: "Conversation" },
    { tab: "journal", label: `Journal (${entries.length})` },
  ];
  return (
    <section aria-labelledby="run-title">
      <p>
        <a href={hrefOf({ view: "runs" })}>← Runs</a>
      </p>
      <h1 id="run-title">
        <span class="mono">{run.id}</span> <Status status={run.status} />
      </h1>
      <p class="explain" role="status" aria-live="polite">
        {explain?.sentence ?? "…"}
        {explain !== null &&
          explain.alsoPending > 0 &&
          ` (and ${explain.alsoPending} more in flight)`}
      </p>
      <div class="facts">
        <span>
          workflow <b>{run.workflow}</b>
          {run.version !== null && ` v${run.version}`}
        </span>
        <span title={run.createdAt}>
          started <b>{formatTime(created)}</b>
        </span>
        <span>
          {ended === null ? "running for" : "took"}{" "}
          <b>{formatDuration((ended ?? now) - created)}</b>
        </span>
        {run.usage.calls > 0 && (
          <span>
            model calls <b>{run.usage.calls}</b> · tokens{" "}
            <b>{formatTokens(run.usage.inputTokens)}</b> in,{" "}
            <b>{formatTokens(run.usage.outputTokens)}</b> out · cost{" "}
            <b>{formatCost(run.usage.costUsd)}</b>
          </span>
        )}
      </div>
      {error !== null && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      <RunActions run={run} onDone={refresh} eventName={eventWait} />
      {approvals.map((a) => (
        <ApprovalCard approval={a} now={now} onDone={refresh} />
      ))}
      <nav class="tabs" aria-label="Views of this run">
        {tabs.map((t) => (
          <a
            href={hrefOf({ view: "run", id: run.id, tab: t.tab })}
            aria-current={t.tab === tab ? "page" : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {tab === "timeline" && (
        <>
          <Waterfall ops={ops} now={ended ?? now} />
          <h2>Input</h2>
          <JsonView value={run.input} label="Input of the run" />
          {run.output !== undefined && (
            <>
              <h2>Output</h2>
              <JsonView value={run.output} label="Output of the run" />
            </>
          )}
          {run.error !== undefined && (
            <>
              <h2>Error</h2>
              <JsonView value={run.error} label="Error of the run" />
            </>
          )}
        </>
      )}
      {tab === "conversation" && <ConversationView runId={run.id} />}
      {tab === "journal" && <JournalTable entries={entries} />}
    </section>
  );
}

function JournalTable({ entries }: { entries: readonly Entry[] }) {
  return (
    <div class="table-wrap">
      <table class="runs" aria-label="Journal">
        <thead>
          <tr>
            <th scope="col" class="num">
              Seq
            </th>
            <th scope="col">Type</th>
            <th scope="col">Operation</th>
            <th scope="col">At</th>
            <th scope="col">Data</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr data-seq={e.seq}>
              <td class="num">{e.seq}</td>
              <td class="mono">{e.type}</td>
              <td class="mono">{e.key ?? ""}</td>
              <td>{formatTime(e.at)}</td>
              <td class="wait">
                {e.data !== null && (
                  <details>
                    <summary>data</summary>
                    <JsonView value={e.data} label={`Data of entry ${e.seq}`} />
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
