// Output streams on SQLite: one row per part, numbered per run from 0; a part whose key the
// run already holds is skipped; a full stream ends with a stream-full part. Written inside
// the store's write transactions.
import type Database from "better-sqlite3";
import { streamFullPart } from "../../core/stream.js";
import { EpochCache } from "../epoch-cache.js";
import type { NewChunk, StoredChunk } from "../stream.js";

/** Appends and reads output-stream parts. */
export class SqliteOutputStream {
  private readonly insert: Database.Statement;
  private readonly hasKey: Database.Statement;
  private readonly last: Database.Statement;
  private readonly read: Database.Statement;
  /** Next offset of runs written under a lease, with that epoch (as for journal entries). */
  private readonly next = new EpochCache();

  /** The part written at the last place of a full stream. */
  private readonly fullPart: string;

  constructor(
    db: Database.Database,
    reader: Database.Database,
    private readonly max: number,
  ) {
    this.fullPart = streamFullPart(max);
    this.insert = db.prepare(
      "INSERT INTO stream (run_id, seq, key, at, data) VALUES (?, ?, ?, ?, ?)",
    );
    this.hasKey = db.prepare("SELECT 1 FROM stream WHERE run_id = ? AND key = ?").pluck();
    this.last = db.prepare("SELECT coalesce(max(seq), -1) FROM stream WHERE run_id = ?").pluck();
    this.read = reader.prepare(
      "SELECT seq AS offset, at, data FROM stream WHERE run_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
    );
  }

  /** Appends `chunks` to the run's stream; call inside a write transaction. */
  append(runId: string, chunks: readonly NewChunk[], epoch: number): void {
    if (chunks.length === 0) return;
    let offset = this.next.get(runId, epoch) ?? (this.last.get(runId) as number) + 1;
    for (const c of chunks) {
      if (offset >= this.max) break;
      if (c.key !== null && this.hasKey.get(runId, c.key) !== undefined) continue;
      const data = offset === this.max - 1 ? this.fullPart : c.data;
      this.insert.run(runId, offset++, c.key, c.at, data);
    }
    this.next.set(runId, epoch, offset);
  }

  /** Forgets cached offsets (a transaction rolled back, or the run changed hands). */
  forget(runId?: string): void {
    this.next.forget(runId);
  }

  list(runId: string, fromOffset: number, limit: number): StoredChunk[] {
    return this.read.all(runId, fromOffset, limit) as StoredChunk[];
  }
}
