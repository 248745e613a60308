// Connections of the PostgreSQL store: its pool, typed queries, and retries on a new
// connection while the server is down or restarting.
import pg from "pg";
import { isConnectionFailure, storeError } from "./errors.js";
import {
  RECONNECT_BACKOFF_MS_INITIAL,
  RECONNECT_BACKOFF_MS_MAX,
  type PostgresSettings,
} from "./settings.js";

/** OID of PostgreSQL's bigint. */
const INT8_OID = 20;

/**
 * Type parsers for endure's own queries: bigint columns (milliseconds, epochs) as numbers.
 * Passed per query, so the `pg` defaults stay untouched for users' statements.
 */
function parseText(oid: number): (value: string) => unknown {
  if (oid === INT8_OID) return Number;
  const defaults = pg.types.getTypeParser as (o: number, f: "text") => (value: string) => unknown;
  return defaults(oid, "text");
}
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: parseText as pg.CustomTypesConfig["getTypeParser"],
};

/** Something that runs queries: a pool client or a client. */
export type Queryable = Pick<pg.ClientBase, "query">;

/** Runs one of endure's statements, with its bigints as numbers. */
export async function query<Row>(
  client: Queryable,
  text: string,
  values: readonly unknown[] = [],
  name?: string,
): Promise<Row[]> {
  const result = await client.query({
    text,
    values: values as unknown[],
    types: TYPES,
    ...(name === undefined ? {} : { name }),
  });
  return result.rows as Row[];
}

/** The connection settings of every client the store opens. */
export function clientConfig(url: string, settings: PostgresSettings): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    // A statement the server never answers (a network black hole) fails on this side too.
    query_timeout: settings.statementTimeoutMs + settings.connectTimeoutMs,
    keepAlive: true,
    application_name: "endure",
    // endure's statements are prepared once per connection; their best plan does not depend
    // on the values (arrays of any length), so planning them again each time is waste.
    options:
      "-c plan_cache_mode=force_generic_plan" +
      (settings.readOnly ? " -c default_transaction_read_only=on" : ""),
  };
}

/** Opens the store's pool. Errors of idle clients are expected (a server restart) and handled. */
export function createPool(url: string, settings: PostgresSettings): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(url, settings), max: settings.poolSize });
  pool.on("error", () => {
    // An idle client lost its connection; the pool drops it and the next query reconnects.
  });
  return pool;
}

/** How an operation treats failures of its connection. */
export interface RetryPolicy {
  /** Safe to run again after it was sent (reads, lease renewals): retried on a new connection. */
  readonly idempotent: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` on a pooled client. Failing to get a connection is retried with backoff for up to
 * `reconnectMs`; a connection lost after the statement was sent is retried only
 * for idempotent work, since a write may have landed. Errors come out typed.
 */
export async function withClient<T>(
  pool: pg.Pool,
  reconnectMs: number,
  where: string,
  doing: string,
  policy: RetryPolicy,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + reconnectMs;
  let backoffMs = RECONNECT_BACKOFF_MS_INITIAL;
  for (;;) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      if (!isConnectionFailure(e) || Date.now() + backoffMs > deadline)
        throw storeError(e, where, doing);
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, RECONNECT_BACKOFF_MS_MAX);
      continue;
    }
    // A connection lost mid-query fails the query; the client's own error event, which the
    // pool does not listen to while the client is out, must not crash the process.
    client.on("error", ignoreError);
    try {
      const result = await fn(client);
      client.removeListener("error", ignoreError);
      client.release();
      return result;
    } catch (e) {
      client.removeListener("error", ignoreError);
      const broken = isConnectionFailure(e);
      // A broken connection goes away instead of back into the pool.
      client.release(broken ? (e as Error) : undefined);
      if (!broken || !policy.idempotent || Date.now() + backoffMs > deadline)
        throw storeError(e, where, doing);
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, RECONNECT_BACKOFF_MS_MAX);
    }
  }
}

function ignoreError(): void {}
