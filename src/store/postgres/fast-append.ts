// The fast commit on PostgreSQL: a batch that only appends entries to runs this process holds
// (every step of a running workflow) is one plain INSERT, on a connection kept for it.
import type pg from "pg";
import type { CommitBatch, CommitResult } from "../store.js";
import { hasUsage } from "./commit.js";
import { isConnectionFailure, storeError } from "./errors.js";
import type { CommitParts } from "./group-commit.js";
import { appendRows } from "./journal-io.js";

/** SQLSTATE of a unique violation: a fast append met a lease mark (its run was taken). */
const UNIQUE_VIOLATION = "23505";

/** Fast appends of one store, and the connection they keep. */
export class FastAppends {
  /** The connection fast appends use, and whether one is under way. */
  private appender: pg.PoolClient | null = null;
  private appending = false;

  constructor(private readonly parts: CommitParts) {}

  /**
   * Commits the batch as one plain INSERT, numbered after the cached last seq of each run. It
   * needs no lock: a claim that took one of these runs wrote a row at that run's next seq in
   * its transaction (claim.ts, LEASE_MARK), so the first late append collides with it on the
   * primary key and the whole INSERT fails; the batch then goes the fenced way, which reports
   * that run fenced and commits the others. Null when the batch does not qualify.
   */
  async commit(batch: CommitBatch): Promise<CommitResult | null> {
    if (batch.creates.length > 0 || batch.writes.length === 0) return null;
    const { S, schema, seqs } = this.parts;
    const bases: number[] = [];
    for (const w of batch.writes) {
      const base = seqs.get(w.runId, w.epoch);
      if (base === null || w.update !== null || (w.waits?.length ?? 0) > 0) return null;
      if ((w.chunks?.length ?? 0) > 0 || hasUsage(w)) return null;
      bases.push(base);
    }
    let next: Map<string, number>;
    try {
      next = await this.withAppender((c) => appendRows(c, S, schema, batch.writes, bases));
    } catch (e) {
      for (const w of batch.writes) seqs.forget(w.runId);
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      if (code === UNIQUE_VIOLATION) return null;
      throw e;
    }
    for (const w of batch.writes) seqs.set(w.runId, w.epoch, next.get(w.runId) ?? 0);
    return { creates: [], writes: batch.writes.map(() => ({ kind: "committed" })) };
  }

  /** Gives the kept connection back (the store is closing). */
  release(): void {
    this.appender?.release();
    this.appender = null;
  }

  /**
   * Runs fast appends on a connection kept for them, skipping the pool's checkout on the
   * busiest path; falls back to the pool when it is in use or cannot be had.
   */
  private async withAppender<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = this.parts.pool();
    if (this.appending || pool === null) return this.parts.usePool(fn);
    this.appending = true;
    try {
      if (this.appender === null) {
        try {
          const client = await pool.connect();
          client.on("error", () => {
            // Lost while kept: the next append fails, drops it, and the run is handed back.
          });
          this.appender = client;
        } catch {
          return await this.parts.usePool(fn);
        }
      }
      const client = this.appender;
      try {
        return await fn(client);
      } catch (e) {
        if (isConnectionFailure(e)) {
          this.appender = null;
          client.release(e as Error);
        }
        throw storeError(e, this.parts.description, "committing");
      }
    } finally {
      this.appending = false;
    }
  }
}
