// Rows of the memory tables as both SQL stores read them, and their records.
import type { MemoryChange, MemoryRecord } from "../core/memory.js";

/** A row of `memory`. */
export interface MemoryRow {
  namespace: string;
  key: string;
  value: string;
  version: number | string;
  updated_at: number | string;
  run_id: string | null;
  by: string | null;
}

/** A row of `memory_history`. */
export interface MemoryChangeRow {
  namespace: string;
  key: string;
  version: number | string;
  value: string;
  at: number | string;
  run_id: string | null;
  position: number | string | null;
  by: string | null;
}

export function toMemoryRecord(row: MemoryRow): MemoryRecord {
  return {
    namespace: row.namespace,
    key: row.key,
    value: row.value,
    version: Number(row.version),
    updatedAt: Number(row.updated_at),
    runId: row.run_id,
    by: row.by,
  };
}

export function toMemoryChange(row: MemoryChangeRow): MemoryChange {
  return {
    namespace: row.namespace,
    key: row.key,
    version: Number(row.version),
    value: row.value,
    at: Number(row.at),
    runId: row.run_id,
    position: row.position === null ? null : Number(row.position),
    by: row.by,
  };
}
