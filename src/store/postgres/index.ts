/**
 * The store for many workers on many machines, one PostgreSQL database.
 *
 * @module endure/postgres
 */
import type pg from "pg";
import { PostgresStore } from "./postgres-store.js";
import type { PostgresStoreOptions } from "./settings.js";

export { PostgresStore };
export type { PostgresStoreOptions } from "./settings.js";
/**
 * The schema version this endure writes (the `endure.migrations` table records a
 * database's).
 *
 * @example
 * ```ts
 * import { SCHEMA_VERSION } from "endure/postgres";
 * console.log(`this endure needs schema version ${SCHEMA_VERSION}`);
 * ```
 */
export { SCHEMA_VERSION } from "./schema.js";

/**
 * The store for scaling out: journals, runs and timers in a PostgreSQL database that any
 * number of workers share. Pass a connection URL (the store opens its own pool) or a
 * `pg.Pool` you own. Opening applies migrations (see `endure migrate` to run them ahead).
 *
 * @example
 * ```ts
 * import { createEngine } from "endure";
 * import { postgresStore } from "endure/postgres";
 * const engine = await createEngine({
 *   store: postgresStore(process.env.DATABASE_URL!),
 *   workflows: [greet],
 * });
 * ```
 */
export function postgresStore(
  urlOrPool: string | pg.Pool,
  options: PostgresStoreOptions = {},
): PostgresStore {
  return new PostgresStore(urlOrPool, options);
}
