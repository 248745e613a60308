/**
 * The embedded store, a single SQLite file.
 *
 * @module endure/sqlite
 */
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";

export { SqliteStore };
export type { SqliteDurability, SqliteStoreOptions } from "./sqlite-store.js";

/**
 * The embedded store: journals, runs and timers in one SQLite file (WAL mode), created on
 * first use. Zero setup; many workers in processes of one machine may share the file.
 * `sqliteStore(":memory:")` keeps everything in memory for tests: one connection, seen by
 * this process only, gone when the store closes.
 *
 * @example
 * ```ts
 * import { createEngine } from "endure";
 * import { sqliteStore } from "endure/sqlite";
 * const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows: [greet] });
 * ```
 */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options);
}
