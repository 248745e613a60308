// A group commit on PostgreSQL through the pool: the batch statement (or, for waits and runs
// going to sleep, the transaction of commit-with-waits.ts), then one result per run created
// and per run written, with the cache of last journal seqs following what was written.
import type pg from "pg";
import type {
  CommitBatch,
  CommitResult,
  CreateResult,
  RunRecord,
  RunWrite,
  WaitRef,
  WriteResult,
} from "../store.js";
import type { EpochCache } from "../epoch-cache.js";
import { toRunRecord as toRecord } from "../sql-rows.js";
import { buildCommit, rowCount, type CommitRow } from "./commit.js";
import { commitWithWaits, endsChild } from "./commit-with-waits.js";
import { query } from "./connection.js";
import { storeError } from "./errors.js";
import type { PostgresWaits } from "./waits.js";
import type { ShapeCache } from "./events.js";

/** What commits need from their store. */
export interface CommitParts {
  readonly S: string;
  readonly schema: string;
  readonly channel: string;
  /** The store, as errors name it. */
  readonly description: string;
  readonly waits: PostgresWaits;
  /** Match shapes of event waits known to be registered. */
  readonly shapes: ShapeCache;
  /** Last journal seq of runs this process writes under a lease. */
  readonly seqs: EpochCache;
  /** Parts a run's output stream holds. */
  readonly streamPartsMax: number;
  /** The store's pool, or null while it is closed. */
  pool(): pg.Pool | null;
  /** Runs `fn` on a client from the pool, as a commit. */
  usePool<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
  getRun(runId: string): Promise<RunRecord | null>;
}

/** Commits `batch` in one statement (one transaction with waits); fenced writes are reported. */
export async function groupCommit(parts: CommitParts, batch: CommitBatch): Promise<CommitResult> {
  const { S, schema, seqs } = parts;
  const unique = [...new Map(batch.creates.map((c) => [c.id, c])).values()];
  const statement = buildCommit(
    schema,
    batch,
    unique,
    (w) => seqs.get(w.runId, w.epoch),
    parts.channel,
    parts.streamPartsMax,
  );
  // Waits, and runs going to sleep, need more than the one statement (commit-with-waits.ts).
  // So do child runs created, and child runs ending (their parents' waits end with them).
  const simple = batch.writes.every(
    (w) =>
      (w.waits?.length ?? 0) === 0 &&
      w.update?.status !== "waiting" &&
      (w.children?.length ?? 0) === 0 &&
      !endsChild(w),
  );
  let row: CommitRow | undefined;
  let woken = new Map<string, WaitRef[]>();
  try {
    if (simple) {
      [row] = await parts.usePool((c) =>
        query<CommitRow>(c, statement.text, statement.values, statement.name),
      );
    } else {
      const result = await parts.usePool((c) =>
        commitWithWaits(c, S, schema, parts.waits, parts.shapes, batch, statement, parts.channel),
      );
      [row] = result.rows;
      woken = result.woken;
    }
  } catch (e) {
    // The outcome is unknown: cached sequence numbers may be ahead of the journal.
    for (const w of batch.writes) seqs.forget(w.runId);
    throw e;
  }
  return {
    creates: await createResults(parts, batch, row),
    writes: writeResults(batch.writes, row, seqs).map((r, i) => {
      const refs = woken.get(batch.writes[i]?.runId ?? "");
      return r.kind === "committed" && refs !== undefined ? { ...r, woken: refs } : r;
    }),
  };
}

async function createResults(
  parts: CommitParts,
  batch: CommitBatch,
  row: CommitRow | undefined,
): Promise<CreateResult[]> {
  const created = new Map((row?.created ?? []).map((r) => [r.id, r]));
  const existing = new Map((row?.existing ?? []).map((r) => [r.id, r]));
  const seen = new Set<string>();
  const results: CreateResult[] = [];
  for (const c of batch.creates) {
    const mine = created.get(c.id);
    if (mine !== undefined && !seen.has(c.id)) {
      seen.add(c.id);
      if (c.claim !== null) parts.seqs.set(c.id, 1, 1);
      results.push({ created: true, run: toRecord(mine) });
      continue;
    }
    // Created by another session after this statement began: read it now.
    const other = mine ?? existing.get(c.id);
    const run = other === undefined ? await parts.getRun(c.id) : toRecord(other);
    if (run === null) throw storeError(new Error(`run ${c.id} vanished`), parts.description, "");
    results.push({ created: false, run });
  }
  return results;
}

function writeResults(
  writes: readonly RunWrite[],
  row: CommitRow | undefined,
  seqs: EpochCache,
): WriteResult[] {
  const written = new Map(row?.written ?? []);
  return writes.map((w): WriteResult => {
    const base = written.get(w.runId);
    if (base === undefined) {
      seqs.forget(w.runId);
      return { kind: "fenced" };
    }
    if (w.update === null) seqs.set(w.runId, w.epoch, base + rowCount(w));
    else seqs.forget(w.runId);
    return { kind: "committed" };
  });
}
