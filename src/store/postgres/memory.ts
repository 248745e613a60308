// Durable keyed memory on PostgreSQL. Writes to one key are serialized by a transaction-scoped
// advisory lock on the key, taken by the read that starts every write (and held to COMMIT):
// a read-modify-write by another worker waits for it, then reads what it wrote. The lock
// touches one key only, so the hot path takes no lock across unrelated keys or runs.
import type pg from "pg";
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
import { query } from "./connection.js";

const COLUMNS = "namespace, key, value, version, updated_at, run_id, by";

/** The advisory lock of one key of schema `schema`. */
export function memoryLock(schema: string, namespace: string, key: string): string {
  return `endure-memory:${schema}:${namespace}/${key}`;
}

/** Memory on `client` inside its open transaction; `end` makes it refuse use afterwards. */
export function memoryTx(
  client: pg.ClientBase,
  S: string,
  schema: string,
): { memory: MemoryTx; end: () => void } {
  let open = true;
  const check = (): void => {
    if (!open)
      throw new InvalidArgumentError(
        "this memory transaction has ended; use memory only inside its operation",
      );
  };
  const memory: MemoryTx = {
    async read(namespace, key) {
      check();
      // Two statements: in READ COMMITTED each one reads what was committed before it began,
      // so the read after the lock sees the write of whoever held it.
      await query(client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
        memoryLock(schema, namespace, key),
      ]);
      const [row] = await query<MemoryRow>(
        client,
        `SELECT ${COLUMNS} FROM ${S}.memory WHERE namespace = $1 AND key = $2`,
        [namespace, key],
      );
      return row === undefined ? null : toMemoryRecord(row);
    },
    async write(w: MemoryWrite) {
      check();
      const [row] = await query<MemoryRow>(
        client,
        `WITH w AS (
           INSERT INTO ${S}.memory (${COLUMNS}) VALUES ($1, $2, $3, 1, $4, $5, $6)
           ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,
             version = ${S}.memory.version + 1, updated_at = excluded.updated_at,
             run_id = excluded.run_id, by = excluded.by
           RETURNING ${COLUMNS}
         ), h AS (
           INSERT INTO ${S}.memory_history (namespace, key, version, value, at, run_id, position, by)
           SELECT namespace, key, version, value, updated_at, run_id, $7, by FROM w
         ), p AS (
           DELETE FROM ${S}.memory_history WHERE namespace = $1 AND key = $2
             AND version <= (SELECT version FROM w) - ${MEMORY_HISTORY_PER_KEY_MAX}
         )
         SELECT ${COLUMNS} FROM w`,
        [w.namespace, w.key, w.value, w.at, w.runId, w.by, w.position],
      );
      return toMemoryRecord(row as MemoryRow);
    },
  };
  return { memory, end: () => (open = false) };
}

export async function readMemory(
  c: pg.ClientBase,
  S: string,
  namespace: string,
  key: string,
): Promise<MemoryRecord | null> {
  const [row] = await query<MemoryRow>(
    c,
    `SELECT ${COLUMNS} FROM ${S}.memory WHERE namespace = $1 AND key = $2`,
    [namespace, key],
  );
  return row === undefined ? null : toMemoryRecord(row);
}

export async function listMemory(
  c: pg.ClientBase,
  S: string,
  filter: MemoryFilter,
): Promise<MemoryRecord[]> {
  const rows = await query<MemoryRow>(
    c,
    `SELECT ${COLUMNS} FROM ${S}.memory
     WHERE namespace = $1 AND key >= $2 AND starts_with(key, $2) AND ($3::text IS NULL OR key > $3)
     ORDER BY key LIMIT $4`,
    [filter.namespace, filter.prefix ?? "", filter.after ?? null, filter.limit],
  );
  return rows.map(toMemoryRecord);
}

export async function listMemoryNamespaces(
  c: pg.ClientBase,
  S: string,
): Promise<MemoryNamespaceRecord[]> {
  const rows = await query<{ namespace: string; keys: string; updated_at: string }>(
    c,
    `SELECT namespace, count(*) AS keys, max(updated_at) AS updated_at FROM ${S}.memory
     GROUP BY namespace ORDER BY namespace`,
  );
  return rows.map((r) => ({
    namespace: r.namespace,
    keys: Number(r.keys),
    updatedAt: Number(r.updated_at),
  }));
}

export async function memoryHistory(
  c: pg.ClientBase,
  S: string,
  namespace: string,
  key: string,
  limit: number,
): Promise<MemoryChange[]> {
  const rows = await query<MemoryChangeRow>(
    c,
    `SELECT namespace, key, version, value, at, run_id, position, by FROM ${S}.memory_history
     WHERE namespace = $1 AND key = $2 ORDER BY version DESC LIMIT $3`,
    [namespace, key, limit],
  );
  return rows.map(toMemoryChange);
}

/**
 * Deletes up to `limit` keys of `namespace` last written before `updatedBefore`, with their
 * history. Retention, off the hot path: a key being written (its row locked) is skipped.
 */
export async function deleteMemory(
  c: pg.ClientBase,
  S: string,
  namespace: string,
  updatedBefore: number,
  limit: number,
): Promise<number> {
  const rows = await query<{ key: string }>(
    c,
    `WITH d AS (
       DELETE FROM ${S}.memory WHERE (namespace, key) IN (
         SELECT namespace, key FROM ${S}.memory WHERE namespace = $1 AND updated_at < $2
         ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING key
     ), h AS (
       DELETE FROM ${S}.memory_history WHERE namespace = $1 AND key IN (SELECT key FROM d)
     )
     SELECT key FROM d`,
    [namespace, updatedBefore, limit],
  );
  return rows.length;
}
