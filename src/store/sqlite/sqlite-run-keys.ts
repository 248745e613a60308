// Runs' data keys on SQLite (see store/run-keys.ts). A shred turns on secure_delete for its
// transaction, so the freed bytes of the key's row are overwritten with zeros, and then
// truncates the write-ahead log, which still holds the page as it was before.
import type Database from "better-sqlite3";
import { TERMINAL_STATUSES, type RunStatus } from "../../core/types.js";
import type { RunKeyRecord, ShredResult } from "../run-keys.js";

interface RunKeyRow {
  run_id: string;
  wrapped: string | null;
  created_at: number;
  shredded_at: number | null;
}

const COLUMNS = "run_id, wrapped, created_at, shredded_at";

function toRecord(row: RunKeyRow): RunKeyRecord {
  return {
    runId: row.run_id,
    wrapped: row.wrapped,
    createdAt: Number(row.created_at),
    shreddedAt: row.shredded_at === null ? null : Number(row.shredded_at),
  };
}

/** Run key statements on the write connection (inside its transactions) and the reader. */
export class SqliteRunKeys {
  private readonly insert: Database.Statement;
  private readonly get: Database.Statement;
  private readonly getRead: Database.Statement;
  private readonly status: Database.Statement;
  private readonly erase: Database.Statement;
  private readonly eraseWaits: Database.Statement;
  private readonly page: Database.Statement;
  private readonly swap: Database.Statement;

  constructor(
    private readonly writer: Database.Database,
    reader: Database.Database,
  ) {
    this.insert = writer.prepare(
      `INSERT INTO run_keys (run_id, wrapped, created_at) VALUES (?, ?, ?)
       ON CONFLICT (run_id) DO NOTHING`,
    );
    this.get = writer.prepare(`SELECT ${COLUMNS} FROM run_keys WHERE run_id = ?`);
    this.getRead = reader.prepare(`SELECT ${COLUMNS} FROM run_keys WHERE run_id = ?`);
    this.status = writer.prepare("SELECT status FROM runs WHERE id = ?");
    this.erase = writer.prepare(
      "UPDATE run_keys SET wrapped = NULL, shredded_at = ? WHERE run_id = ?",
    );
    this.eraseWaits = writer.prepare("UPDATE waits SET value = NULL WHERE run_id = ?");
    this.page = reader.prepare(
      `SELECT ${COLUMNS} FROM run_keys WHERE wrapped IS NOT NULL AND (? IS NULL OR run_id > ?)
       ORDER BY run_id LIMIT ?`,
    );
    this.swap = writer.prepare("UPDATE run_keys SET wrapped = ? WHERE run_id = ? AND wrapped = ?");
  }

  /** Inside a write transaction. */
  put(keys: readonly { runId: string; wrapped: string }[], now: number): RunKeyRecord[] {
    return keys.map((k) => {
      this.insert.run(k.runId, k.wrapped, now);
      return toRecord(this.get.get(k.runId) as RunKeyRow);
    });
  }

  read(runIds: readonly string[]): RunKeyRecord[] {
    const out: RunKeyRecord[] = [];
    for (const id of runIds) {
      const row = this.getRead.get(id) as RunKeyRow | undefined;
      if (row !== undefined) out.push(toRecord(row));
    }
    return out;
  }

  /** Inside a write transaction. */
  shred(runId: string, now: number): ShredResult {
    const run = this.status.get(runId) as { status: string } | undefined;
    if (run === undefined) return { kind: "not_found" };
    const key = this.get.get(runId) as RunKeyRow | undefined;
    if (key === undefined) return { kind: "no_key" };
    if (key.shredded_at !== null) return { kind: "already", shreddedAt: Number(key.shredded_at) };
    if (!TERMINAL_STATUSES.has(run.status as RunStatus))
      return { kind: "not_ended", status: run.status };
    this.writer.pragma("secure_delete = ON");
    try {
      this.erase.run(now, runId);
      this.eraseWaits.run(runId);
    } finally {
      this.writer.pragma("secure_delete = OFF");
    }
    return { kind: "shredded", shreddedAt: now };
  }

  /** After a shred's commit: copies the log into the file and empties it. */
  truncateLog(): void {
    this.writer.pragma("wal_checkpoint(TRUNCATE)");
  }

  list(afterRunId: string | null, limit: number): RunKeyRecord[] {
    return (this.page.all(afterRunId, afterRunId, limit) as RunKeyRow[]).map(toRecord);
  }

  /** Inside a write transaction. */
  rewrap(runId: string, from: string, to: string): boolean {
    return this.swap.run(to, runId, from).changes === 1;
  }
}
