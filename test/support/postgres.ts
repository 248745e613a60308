// Test helpers for PostgreSQL: a fresh database per test on the server of the run (see
// global-setup.ts), dropped after the test, and stores and engines on it.
import pg from "pg";
import { inject } from "vitest";
import { createEngine, type Engine, type EngineOptions } from "endure";
import { postgresStore, type PostgresStore, type PostgresStoreOptions } from "endure/postgres";
import { onCleanup } from "../helpers.js";

/** The URL of the run's server, for administration (creating and dropping databases). */
export function serverUrl(): string {
  return inject("postgresUrl");
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs `fn` with a client on the server's administration database. */
export async function admin<T>(
  fn: (client: pg.Client) => Promise<T>,
  url = serverUrl(),
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database, dropped (its sessions ended) after the test. Returns its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `endure_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  onCleanup(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  return withDatabase(serverUrl(), name);
}

/** An opened store on `url` (a fresh database by default), closed after the test. */
export async function openStore(
  url?: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const store = postgresStore(url ?? (await freshDatabase()), options);
  await store.open();
  onCleanup(() => store.close());
  return store;
}

/** An engine on a PostgreSQL store (a fresh database by default), closed after the test. */
export async function postgresEngine(
  options: Omit<EngineOptions, "store"> & {
    url?: string;
    storeOptions?: PostgresStoreOptions;
  } = {},
): Promise<Engine> {
  const { url, storeOptions, ...rest } = options;
  const engine = await createEngine({
    store: postgresStore(url ?? (await freshDatabase()), storeOptions),
    logger: { warn: () => {} },
    ...rest,
  });
  onCleanup(() => engine.close());
  return engine;
}
