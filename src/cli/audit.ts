// The audit export (`endure export --since <time>`) and its check (`endure verify --file`):
// the journals of the runs active in a time range, as the store holds them (payloads sealed
// when the store is encrypted, each entry's chain hash in its data), with who did what and
// when beside each entry. A file made so proves itself: `verify --file` recomputes every
// run's hash chain from the file alone, without the store or the key ring.
import { InvalidArgumentError } from "../core/errors.js";
import type { JournalEntry } from "../core/journal.js";
import { LIST_RUNS_LIMIT_MAX } from "../core/limits.js";
import { unchained, verifyChain, type VerifyReport } from "../protect/hash-chain.js";
import type { RunRecord, Store } from "../store/store.js";

/** The first line of a run in an audit file: the run as stored. */
export interface AuditRunLine {
  readonly run: {
    readonly id: string;
    readonly workflow: string;
    readonly version: string | null;
    readonly status: RunRecord["status"];
    /** The input as stored (sealed when the store is encrypted): the chain starts from it. */
    readonly input: string;
    readonly parentId: string | null;
    readonly createdAt: string;
    readonly updatedAt: string;
    readonly endedAt: string | null;
  };
}

/** One journal entry of an audit file. */
export interface AuditEntryLine {
  readonly runId: string;
  readonly seq: number;
  readonly type: JournalEntry["type"];
  /** When, in epoch milliseconds (as hashed), and as an ISO time. */
  readonly at: number;
  readonly time: string;
  readonly position: number | null;
  readonly key: string | null;
  /** Who did it, when the entry names someone: who started, cancelled, retried, resumed,
   * rewound or forked the run, or decided its approval. Absent when the entry's data is
   * sealed and no key ring was given. */
  readonly by?: string;
  /** The entry's data as stored: with its chain hash when the journal is chained. */
  readonly data: string | null;
}

/** What an audit export wrote. */
export interface AuditSummary {
  readonly runs: number;
  readonly entries: number;
}

/**
 * Writes, a line each, every run updated in `[since, until)` (oldest created first) with its
 * whole journal as stored in `store`. `opened` reads the same store through the key ring (or
 * null), to name who did what in entries whose data is sealed.
 */
export async function exportAudit(
  store: Store,
  opened: Store | null,
  range: { since: number; until: number | null },
  write: (line: string) => void,
): Promise<AuditSummary> {
  const picked: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({
      limit: LIST_RUNS_LIMIT_MAX,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const run of page.runs) {
      if (run.updatedAt >= range.since && (range.until === null || run.updatedAt < range.until))
        picked.push(run);
    }
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  picked.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  let entries = 0;
  for (const run of picked) {
    const header: AuditRunLine = {
      run: {
        id: run.id,
        workflow: run.workflow,
        version: run.version,
        status: run.status,
        input: run.input,
        parentId: run.parentId,
        createdAt: new Date(run.createdAt).toISOString(),
        updatedAt: new Date(run.updatedAt).toISOString(),
        endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
      },
    };
    write(JSON.stringify(header));
    const stored = await store.readJournal(run.id);
    const readable = opened === null ? null : await opened.readJournal(run.id);
    for (const [i, e] of stored.entries()) {
      const by = actorOf(e.type, readable?.[i]?.data ?? unchained(e.data).data);
      const line: AuditEntryLine = {
        runId: run.id,
        seq: e.seq,
        type: e.type,
        at: e.at,
        time: new Date(e.at).toISOString(),
        position: e.position,
        key: e.key,
        ...(by === null ? {} : { by }),
        data: e.data,
      };
      write(JSON.stringify(line));
      entries++;
    }
  }
  return { runs: picked.length, entries };
}

/** Who an entry names: `by` in its data, or in an approval's decision (`result.by`). */
function actorOf(type: JournalEntry["type"], data: string | null): string | null {
  if (data === null || data.startsWith('{"$endure":"sealed"')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object") return null;
  const record = parsed as { by?: unknown; result?: unknown };
  // Combinator and withdrawal entries name the operation that won, not a person.
  const named = type.endsWith("_cancelled") && type !== "run_cancelled" ? undefined : record.by;
  if (typeof named === "string") return named;
  if (type === "wait_completed" && record.result !== null && typeof record.result === "object") {
    const decided = (record.result as { by?: unknown }).by;
    if (typeof decided === "string") return decided;
  }
  return null;
}

/** Checks every run of an audit file against its hash chain, from the file alone. */
export function verifyAuditFile(text: string, file: string): VerifyReport[] {
  const reports: VerifyReport[] = [];
  let run: AuditRunLine["run"] | null = null;
  let entries: JournalEntry[] = [];
  const flush = (): void => {
    if (run === null) return;
    const record = {
      id: run.id,
      workflow: run.workflow,
      version: run.version,
      status: run.status,
      input: run.input,
    } as RunRecord;
    reports.push(verifyChain(record, entries));
  };
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new InvalidArgumentError(
        `${file} line ${i + 1} is not JSON (${(e as Error).message}): an audit file holds one ` +
          "JSON object a line, as `endure export --since` writes it",
      );
    }
    const line = value as Partial<AuditRunLine & AuditEntryLine>;
    if (line.run !== undefined) {
      flush();
      run = line.run;
      entries = [];
      continue;
    }
    if (run === null || line.runId !== run.id || typeof line.seq !== "number") {
      throw new InvalidArgumentError(
        `${file} line ${i + 1} is not an entry of the run above it: an audit file holds a ` +
          '{"run": ...} line, then that run\'s entries',
      );
    }
    entries.push({
      runId: run.id,
      seq: line.seq,
      type: line.type as JournalEntry["type"],
      at: line.at as number,
      position: line.position ?? null,
      key: line.key ?? null,
      data: line.data ?? null,
    });
  }
  flush();
  return reports;
}
