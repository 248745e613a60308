// The part of the Store contract that keeps each run's data key (crypto-shredding): with
// `aesGcmCodec({ runKeys: true })`, a run's payloads are sealed under a key of its own, kept
// here wrapped (sealed) by the key ring. Deleting it makes the run's payloads unreadable while
// the rest of its rows (the structure of its journal, its hashes) stay as they are.

/** A run's data key as the store keeps it. */
export interface RunKeyRecord {
  readonly runId: string;
  /** The data key, sealed by the key ring; null once the run was shredded. */
  readonly wrapped: string | null;
  readonly createdAt: number;
  /** When the key was deleted, or null. */
  readonly shreddedAt: number | null;
}

/** The outcome of {@link RunKeyStore.shred}. */
export type ShredResult =
  | { readonly kind: "shredded"; readonly shreddedAt: number }
  /** Shredded before: nothing changed. */
  | { readonly kind: "already"; readonly shreddedAt: number }
  | { readonly kind: "not_found" }
  /** The run has not ended: cancel it first. */
  | { readonly kind: "not_ended"; readonly status: string }
  /** The run has no data key (it started before run keys were turned on). */
  | { readonly kind: "no_key" };

/**
 * Where a store keeps runs' data keys. Every call touches the rows of the runs it names, or
 * (`list`) walks the keys in run id order off the hot path.
 */
export interface RunKeyStore {
  /**
   * Stores each run's wrapped key unless that run has one already (an idempotent start), in
   * one transaction; returns the key each run has now, in the order given.
   */
  put(keys: readonly { runId: string; wrapped: string }[], now: number): Promise<RunKeyRecord[]>;
  /** The keys of these runs (runs without one are left out). */
  read(runIds: readonly string[]): Promise<RunKeyRecord[]>;
  /**
   * Deletes an ended run's key for good, and the values of its waits (which may embed event
   * data sealed under the ring), in one transaction; the store also overwrites what it can of
   * the old bytes (SQLite's freed pages and its write-ahead log, PostgreSQL's dead rows).
   */
  shred(runId: string, now: number): Promise<ShredResult>;
  /** Keys not shredded, in run id order after `afterRunId` (null: from the first). */
  list(afterRunId: string | null, limit: number): Promise<RunKeyRecord[]>;
  /** Replaces a key's wrapping when it is still `from`; false when it changed meanwhile. */
  rewrap(runId: string, from: string, to: string): Promise<boolean>;
}
