// Writing journals on SQLite: group commits (run creations, fenced appends, status changes,
// output-stream parts and usage totals) and the numbering of journal rows. Called inside the
// store's write transactions.
import type { NewEntry } from "../../core/journal.js";
import { TERMINAL_STATUSES } from "../../core/types.js";
import { JournalLimitError, RunNotFoundError } from "../../core/errors.js";
import type {
  CommitBatch,
  CommitResult,
  CreateResult,
  RunCreate,
  RunWrite,
  WriteResult,
} from "../store.js";
import { EpochCache } from "../epoch-cache.js";
import { sharesRow, toRunRecord as toRecord, type RunRow } from "../sql-rows.js";
import type { SqliteOutputStream } from "./output-stream.js";
import type { Statements } from "./statements.js";
import type { SqliteWaits } from "./sqlite-waits.js";
import { SQLITE_RUN_ENTRIES_MAX } from "./limits.js";

/** An append to a run the store does not hold. */
function noRun(runId: string): RunNotFoundError {
  return new RunNotFoundError(`no run with id '${runId}' to append journal entries to`);
}

/** A run whose journal holds as many entries as a SQLite store can number. */
function runEntriesFull(runId: string): JournalLimitError {
  return new JournalLimitError(
    `run '${runId}' has ${SQLITE_RUN_ENTRIES_MAX} journal entries, the most a SQLite store ` +
      "numbers for one run; end the run and carry on in a new one (ctx.continueAsNew keeps " +
      "the run id), or keep such runs on PostgreSQL",
  );
}

/** Appends to journals and applies the writes of group commits. */
export class SqliteJournalWriter {
  /**
   * Last journal sequence number of runs this store writes under a lease, with the epoch it
   * holds: while that epoch holds, no one else appends to the run, so no lookup is needed.
   */
  private readonly lastSeqs = new EpochCache();

  constructor(
    private readonly st: Statements,
    private readonly streams: SqliteOutputStream,
    private readonly waits: SqliteWaits,
    /** Notes a worker id that holds leases in this process (for takeover of dead owners). */
    private readonly remember: (workerId: string) => void,
  ) {}

  /** Forgets cached sequence numbers: a transaction rolled back, or the run changed hands. */
  forget(runId?: string): void {
    this.lastSeqs.forget(runId);
    this.streams.forget(runId);
  }

  /** Creates and writes a batch; call inside a write transaction. */
  commit(batch: CommitBatch): CommitResult {
    const creates = batch.creates.map((c) => this.createRun(c, batch.now));
    const holding = this.holdingEpochs(batch.writes);
    const writes = batch.writes.map((w) =>
      this.applyWrite(w, batch.now, holding.get(w.runId) === w.epoch),
    );
    return { creates, writes };
  }

  /** Creates a run (with its first entry) unless one has its id; the run as it is. */
  private createRun(c: RunCreate, now: number): CreateResult {
    if (c.claim !== null) this.remember(c.claim.workerId);
    const existing = this.st.getRun.get(c.id) as RunRow | undefined;
    if (existing !== undefined) return { created: false, run: toRecord(existing) };
    const claimed = c.claim !== null;
    const row: RunRow = {
      id: c.id,
      workflow: c.workflow,
      version: c.version,
      status: claimed ? "running" : "pending",
      input: c.input,
      output: null,
      error: null,
      paused_reason: null,
      created_at: now,
      updated_at: now,
      ended_at: null,
      wake_at: null,
      owner: c.claim?.workerId ?? null,
      epoch: claimed ? 1 : 0,
      recoveries: 0,
      priority: c.priority,
      concurrency_key: c.concurrencyKey,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      metered_calls: 0,
      cancel_requested: null,
      deadline_at: c.deadlineAt,
      parent_id: c.parent?.runId ?? null,
    };
    this.st.insertRun.run({
      ...row,
      owner_pid: claimed ? process.pid : null,
      lease_expires_at: claimed ? now + (c.claim?.leaseMs ?? 0) : null,
      detached: c.parent?.detached === true ? 1 : 0,
    });
    this.insertEntries(c.id, [c.started]);
    return { created: true, run: toRecord(row) };
  }

  /** Epochs of the written runs that are running, in one query for the whole batch. */
  private holdingEpochs(writes: readonly RunWrite[]): Map<string, number> {
    const epochs = new Map<string, number>();
    if (writes.length === 0) return epochs;
    if (writes.length === 1) {
      const w = writes[0] as RunWrite;
      if (this.fenceHolds(w.runId, w.epoch)) epochs.set(w.runId, w.epoch);
      return epochs;
    }
    const rows = this.st.fenceMany.all(JSON.stringify(writes.map((w) => w.runId))) as Array<{
      id: string;
      epoch: number;
    }>;
    for (const row of rows) epochs.set(row.id, row.epoch);
    return epochs;
  }

  private applyWrite(w: RunWrite, now: number, holds: boolean): WriteResult {
    if (!holds) {
      this.lastSeqs.forget(w.runId);
      this.streams.forget(w.runId);
      return { kind: "fenced" };
    }
    this.insertEntries(w.runId, w.entries, w.epoch);
    if (w.chunks !== undefined) this.streams.append(w.runId, w.chunks, w.epoch);
    for (const child of w.children ?? []) this.createRun(child, now);
    if (w.waits !== undefined && w.waits.length > 0) this.waits.create(w.runId, w.waits, now);
    const u = w.update;
    if (u === null) return { kind: "committed" };
    this.lastSeqs.forget(w.runId);
    this.streams.forget(w.runId);
    switch (u.status) {
      case "cancelled":
      case "timed_out":
        this.st.finishRun.run({ status: u.status, output: null, error: u.error, now, id: w.runId });
        break;
      case "completed":
        this.st.finishRun.run({
          status: "completed",
          output: u.output,
          error: null,
          now,
          id: w.runId,
        });
        break;
      case "failed":
        this.st.finishRun.run({ status: "failed", output: null, error: u.error, now, id: w.runId });
        break;
      case "paused":
        this.st.pauseRun.run(u.reason, now, w.runId);
        break;
      case "waiting": {
        // A wait that ended while the run was being suspended must not sleep through it.
        const row = this.st.fence.get(w.runId) as { cancel_requested: string | null };
        const wake = row.cancel_requested !== null || this.waits.hasUndelivered(w.runId);
        this.st.releaseRun.run(wake ? "pending" : "waiting", wake ? null : u.wakeAt, now, w.runId);
        break;
      }
      case "pending":
        this.st.releaseRun.run("pending", null, now, w.runId);
        break;
    }
    if (!TERMINAL_STATUSES.has(u.status)) return { kind: "committed" };
    // A child's end ends its parent's wait for it, in this transaction.
    const woken = this.waits.childEnded(w.runId, now);
    return woken.length === 0 ? { kind: "committed" } : { kind: "committed", woken };
  }

  /** Whether the run is running under `epoch`. */
  fenceHolds(runId: string, epoch: number): boolean {
    const row = this.st.fence.get(runId) as { epoch: number; status: string } | undefined;
    return row !== undefined && row.epoch === epoch && row.status === "running";
  }

  /** Appends entries to a run's journal, numbering them after its last one. */
  insertEntries(runId: string, entries: readonly NewEntry[], epoch?: number): void {
    if (entries.length === 0) return;
    let seq =
      (epoch === undefined ? null : this.lastSeqs.get(runId, epoch)) ??
      (this.st.lastSeq.get(runId) as { s: number }).s;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as NewEntry;
      const next = entries[i + 1];
      if (++seq > SQLITE_RUN_ENTRIES_MAX) throw runEntriesFull(runId);
      if (sharesRow(e, next)) {
        const row = {
          run: runId,
          seq,
          at: next.at,
          position: next.position,
          key: next.key,
          data: next.data,
          startedAt: e.at,
          startedData: e.data,
        };
        if (this.st.insertStep.run(row).changes !== 1) throw noRun(runId);
        this.addUsage(runId, next);
        i++;
      } else {
        const row = {
          run: runId,
          seq,
          type: e.type,
          at: e.at,
          position: e.position,
          key: e.key,
          data: e.data,
        };
        if (this.st.insertEntry.run(row).changes !== 1) throw noRun(runId);
        this.addUsage(runId, e);
      }
    }
    if (epoch !== undefined) this.lastSeqs.set(runId, epoch, seq);
  }

  private addUsage(runId: string, e: NewEntry): void {
    const u = e.usage;
    if (u !== undefined) this.st.addUsage.run(u.inputTokens, u.outputTokens, u.costUsd, runId);
  }
}
