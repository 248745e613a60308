// Where a chaos run keeps its runs: a SQLite file in the run's directory, or a fresh
// database on PostgreSQL (DATABASE_URL, or a throwaway server), reached by the workers
// through a proxy that cuts and stalls their connections.
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { Store } from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { startPostgres, type ThrowawayPostgres } from "../support/postgres-server.mjs";
import { ChaosProxy } from "./proxy.js";
import { TX_TABLE_SQL } from "./workflows.mjs";

/** One chaos run's store, as the harness and its workers reach it. */
export interface ChaosTarget {
  /** What workers open: a file path or a connection URL. */
  readonly workerTarget: string;
  /** A store for the harness's own client engine. */
  clientStore(): Store;
  /** Creates the table of transactional effects (after the engine's migrations). */
  prepare(): Promise<void>;
  /** Rows of transactional effects per run. */
  txRows(): Promise<Map<string, number>>;
  /** Connection cuts and stalls the proxy made. */
  connectionFaults(): number;
  close(): Promise<void>;
}

/** Opens the target of `store` for a run whose files live in `dir`. */
export async function openTarget(
  store: "sqlite" | "postgres",
  dir: string,
  options: { databaseUrl?: string; connectionFaults?: boolean; seed: number },
): Promise<ChaosTarget> {
  return store === "sqlite" ? sqliteTarget(join(dir, "chaos.db")) : postgresTarget(options);
}

function sqliteTarget(path: string): ChaosTarget {
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path, { timeout: 10_000 });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    workerTarget: path,
    clientStore: () => sqliteStore(path, { durability: "process" }),
    prepare: async () => void withDb((db) => db.exec(TX_TABLE_SQL)),
    txRows: async () => countRows(withDb((db) => db.prepare(COUNT_SQL).all() as TxCount[])),
    connectionFaults: () => 0,
    close: async () => {},
  };
}

const COUNT_SQL = "SELECT run_id, count(*) AS n FROM chaos_tx GROUP BY run_id";
type TxCount = { run_id: string; n: number | string };

function countRows(rows: readonly TxCount[]): Map<string, number> {
  return new Map(rows.map((r) => [r.run_id, Number(r.n)]));
}

async function postgresTarget(options: {
  databaseUrl?: string;
  connectionFaults?: boolean;
  seed: number;
}): Promise<ChaosTarget> {
  let server: ThrowawayPostgres | null = null;
  let adminUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? "";
  if (adminUrl === "") {
    server = await startPostgres();
    adminUrl = server.url;
  }
  const name = `endure_chaos_${Date.now().toString(36)}_${options.seed}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const proxy =
    options.connectionFaults === false
      ? null
      : await ChaosProxy.start(url.hostname, Number(url.port || 5432), options.seed);
  const workerUrl = new URL(url);
  if (proxy !== null) {
    workerUrl.hostname = "127.0.0.1";
    workerUrl.port = String(proxy.port);
  }
  const query = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    try {
      return (await c.query<R>(sql)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    workerTarget: workerUrl.toString(),
    clientStore: () => postgresStore(url.toString()),
    prepare: async () => void (await query(TX_TABLE_SQL)),
    txRows: async () => countRows(await query<TxCount>(COUNT_SQL)),
    connectionFaults: () => proxy?.faults ?? 0,
    close: async () => {
      await proxy?.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server?.stop();
    },
  };
}
