// The options of the PostgreSQL store and its limits, each with its unit and reason.
import { InvalidArgumentError } from "../../core/errors.js";
import { STREAM_PARTS_MAX_DEFAULT, TRANSACTIONAL_STEP_TIMEOUT_MS_MAX } from "../../core/limits.js";

/** Connections the store's own pool opens at most: 10. One carries group commits, the others
 * claims, heartbeats, journal reads and transactional steps (each holds one while it runs). */
export const POOL_CONNECTIONS_DEFAULT = 10;

/** How long a statement may run before PostgreSQL cancels it, in ms: 30 s. Keeps a stuck
 * query (a lock held by someone else) from stalling a worker forever. */
export const STATEMENT_TIMEOUT_MS_DEFAULT = 30_000;

/** How long connecting may take, in ms: 10 s. An unreachable server fails fast at start. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;

/** How long an operation keeps retrying to get a connection while the server is down or
 * restarting, in ms: 10 s. A restart or failover shorter than this goes unnoticed; longer
 * outages surface as `store_unavailable` (runs are handed back and the worker backs off). */
export const RECONNECT_MS_DEFAULT = 10_000;

/** First and longest pause between reconnection attempts, in ms. */
export const RECONNECT_BACKOFF_MS_INITIAL = 50;
export const RECONNECT_BACKOFF_MS_MAX = 1_000;

/**
 * How long one of endure's own transactions may wait for its worker between statements, in
 * ms: 5 s. They take milliseconds; a worker frozen in the middle of one (a stop signal, a
 * paused VM, a long garbage collection) would otherwise keep its locks, the lock of claims
 * under concurrency limits among them, until its connection dies. PostgreSQL ends such a
 * session after this, and other workers go on. Transactional steps are not bounded by it.
 */
export const TRANSACTION_IDLE_MS_MAX = 5_000;

/** How long a transactional step's transaction may wait for its worker between statements,
 * in ms: the longest step timeout and 5 s more. The core ends the body at its timeout; this
 * ends the session of a worker that stalled in the body (its locks with it). */
export const TRANSACTIONAL_STEP_IDLE_MS_MAX = TRANSACTIONAL_STEP_TIMEOUT_MS_MAX + 5_000;

/** Starts one of endure's own transactions, bounded by {@link TRANSACTION_IDLE_MS_MAX}. */
export const BEGIN_BOUNDED = `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${TRANSACTION_IDLE_MS_MAX}`;

/** Longest schema name, in characters: 40 (PostgreSQL allows 63; prepared statement and
 * channel names are built from it). */
export const SCHEMA_NAME_LENGTH_MAX = 40;

/**
 * Options of `postgresStore`.
 *
 * @example
 * ```ts
 * postgresStore(url, { schema: "jobs", poolSize: 5, statementTimeoutMs: 10_000, migrate: false });
 * ```
 */
export interface PostgresStoreOptions {
  /** The PostgreSQL schema holding endure's tables. Default `"endure"`. Several endure
   * deployments can share one database under different schemas. */
  schema?: string;
  /** Most connections of the store's pool (ignored when a pool is given). Default 10. */
  poolSize?: number;
  /** Statement timeout of the store's connections, in ms. Default 30,000. */
  statementTimeoutMs?: number;
  /** Connection timeout, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** How long an operation retries getting a connection during an outage, in ms. Default 10,000. */
  reconnectMs?: number;
  /**
   * Apply missing migrations when the store opens (default true). With `false`, opening a
   * database whose schema is behind fails with `store_outdated`: run `endure migrate` first.
   */
  migrate?: boolean;
  /** Listen for wake-ups with LISTEN/NOTIFY (default true); off, workers only poll. */
  listen?: boolean;
  /**
   * Open for reading only (default false): every transaction of the store's connections is
   * read-only on the server (`default_transaction_read_only`), no migration is applied (a
   * schema that is behind fails with `store_outdated`) and nothing is listened for. A write
   * fails. `endure check` opens stores so.
   */
  readOnly?: boolean;
  /** Parts a run's output stream holds (default 1,000,000); see STREAM_PARTS_MAX_DEFAULT. */
  streamPartsMax?: number;
}

/** Options with their defaults applied. */
export type PostgresSettings = Required<PostgresStoreOptions>;

/** Checks the options and applies defaults. */
export function settingsOf(options: PostgresStoreOptions): PostgresSettings {
  const schema = options.schema ?? "endure";
  if (!new RegExp(`^[a-z_][a-z0-9_]{0,${SCHEMA_NAME_LENGTH_MAX - 1}}$`).test(schema)) {
    throw new InvalidArgumentError(
      `postgresStore schema must be a lower-case identifier of at most ${SCHEMA_NAME_LENGTH_MAX} ` +
        `characters (letters, digits, _), got ${JSON.stringify(schema)}`,
    );
  }
  return {
    schema,
    poolSize: positive(options.poolSize ?? POOL_CONNECTIONS_DEFAULT, "poolSize"),
    statementTimeoutMs: positive(
      options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS_DEFAULT,
      "statementTimeoutMs",
    ),
    connectTimeoutMs: positive(
      options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT,
      "connectTimeoutMs",
    ),
    reconnectMs: positive(options.reconnectMs ?? RECONNECT_MS_DEFAULT, "reconnectMs"),
    migrate: options.readOnly === true ? false : (options.migrate ?? true),
    listen: options.readOnly === true ? false : (options.listen ?? true),
    readOnly: options.readOnly ?? false,
    streamPartsMax: positive(options.streamPartsMax ?? STREAM_PARTS_MAX_DEFAULT, "streamPartsMax"),
  };
}

function positive(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `postgresStore ${what} must be a whole number of at least 1, got ${String(value)}`,
    );
  }
  return value;
}
