// Durable keyed memory on SQLite. Every write transaction holds the file's one write lock, so
// writes to a key are serialized without a lock of their own.
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../core/errors.js";
import { MEMORY_HISTORY_PER_KEY_MAX } from "../../core/limits.js";
import type { MemoryChange, MemoryRecord, MemoryTx, MemoryWrite } from "../../core/memory.js";
import {
  toMemoryChange,
  toMemoryRecord,
  type MemoryChangeRow,
  type MemoryRow,
} from "../memory-rows.js";
import type { MemoryFilter, MemoryNamespaceRecord } from "../store.js";

const COLUMNS = "namespace, key, value, version, updated_at, run_id, by";

/** Memory statements on the write connection (inside its transactions) and the reader. */
export class SqliteMemory {
  private readonly get: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly record: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly getRead: Database.Statement;
  private readonly list: Database.Statement;
  private readonly namespaces: Database.Statement;
  private readonly history: Database.Statement;
  private readonly stale: Database.Statement;
  private readonly dropKey: Database.Statement;
  private readonly dropHistory: Database.Statement;

  constructor(writer: Database.Database, reader: Database.Database) {
    this.get = writer.prepare(`SELECT ${COLUMNS} FROM memory WHERE namespace = ? AND key = ?`);
    this.upsert = writer.prepare(
      `INSERT INTO memory (${COLUMNS}) VALUES (?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,
         version = memory.version + 1, updated_at = excluded.updated_at,
         run_id = excluded.run_id, by = excluded.by
       RETURNING ${COLUMNS}`,
    );
    this.record = writer.prepare(
      `INSERT INTO memory_history (namespace, key, version, value, at, run_id, position, by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.prune = writer.prepare(
      "DELETE FROM memory_history WHERE namespace = ? AND key = ? AND version <= ?",
    );
    this.getRead = reader.prepare(`SELECT ${COLUMNS} FROM memory WHERE namespace = ? AND key = ?`);
    this.list = reader.prepare(
      `SELECT ${COLUMNS} FROM memory
       WHERE namespace = @namespace AND key >= @prefix AND substr(key, 1, length(@prefix)) = @prefix
         AND (@after IS NULL OR key > @after)
       ORDER BY key LIMIT @limit`,
    );
    this.namespaces = reader.prepare(
      `SELECT namespace, count(*) AS keys, max(updated_at) AS updated_at FROM memory
       GROUP BY namespace ORDER BY namespace`,
    );
    this.history = reader.prepare(
      `SELECT namespace, key, version, value, at, run_id, position, by FROM memory_history
       WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT ?`,
    );
    this.stale = writer.prepare(
      "SELECT key FROM memory WHERE namespace = ? AND updated_at < ? ORDER BY updated_at LIMIT ?",
    );
    this.dropKey = writer.prepare("DELETE FROM memory WHERE namespace = ? AND key = ?");
    this.dropHistory = writer.prepare("DELETE FROM memory_history WHERE namespace = ? AND key = ?");
  }

  /** Memory inside the write transaction open now; `end` makes it refuse use afterwards. */
  tx(): { memory: MemoryTx; end: () => void } {
    let open = true;
    const check = (): void => {
      if (!open)
        throw new InvalidArgumentError(
          "this memory transaction has ended; use memory only inside its operation",
        );
    };
    const memory: MemoryTx = {
      read: (namespace, key) => {
        try {
          check();
          const row = this.get.get(namespace, key) as MemoryRow | undefined;
          return Promise.resolve(row === undefined ? null : toMemoryRecord(row));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      write: (write) => {
        try {
          check();
          return Promise.resolve(this.write(write));
        } catch (e) {
          return Promise.reject(e);
        }
      },
    };
    return { memory, end: () => (open = false) };
  }

  private write(w: MemoryWrite): MemoryRecord {
    const row = this.upsert.get(w.namespace, w.key, w.value, w.at, w.runId, w.by) as MemoryRow;
    const record = toMemoryRecord(row);
    this.record.run(w.namespace, w.key, record.version, w.value, w.at, w.runId, w.position, w.by);
    this.prune.run(w.namespace, w.key, record.version - MEMORY_HISTORY_PER_KEY_MAX);
    return record;
  }

  read(namespace: string, key: string): MemoryRecord | null {
    const row = this.getRead.get(namespace, key) as MemoryRow | undefined;
    return row === undefined ? null : toMemoryRecord(row);
  }

  listKeys(filter: MemoryFilter): MemoryRecord[] {
    const rows = this.list.all({
      namespace: filter.namespace,
      prefix: filter.prefix ?? "",
      after: filter.after ?? null,
      limit: filter.limit,
    }) as MemoryRow[];
    return rows.map(toMemoryRecord);
  }

  listNamespaces(): MemoryNamespaceRecord[] {
    const rows = this.namespaces.all() as { namespace: string; keys: number; updated_at: number }[];
    return rows.map((r) => ({ namespace: r.namespace, keys: r.keys, updatedAt: r.updated_at }));
  }

  changes(namespace: string, key: string, limit: number): MemoryChange[] {
    return (this.history.all(namespace, key, limit) as MemoryChangeRow[]).map(toMemoryChange);
  }

  /** Deletes stale keys with their history; call inside a write transaction. */
  deleteStale(namespace: string, updatedBefore: number, limit: number): number {
    const keys = this.stale.all(namespace, updatedBefore, limit) as { key: string }[];
    for (const { key } of keys) {
      this.dropKey.run(namespace, key);
      this.dropHistory.run(namespace, key);
    }
    return keys.length;
  }
}
