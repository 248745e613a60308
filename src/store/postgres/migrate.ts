// Brings a database's endure schema to this code's version, in one transaction under an
// advisory lock: workers starting together migrate once. Recognizes a schema of another
// application and one written by a newer endure, and changes nothing in them.
import type pg from "pg";
import { StoreNotEndureError, StoreOutdatedError, StoreTooNewError } from "../../core/errors.js";
import { query } from "./connection.js";
import { migrationSql, quoteIdent, SCHEMA_VERSION } from "./schema.js";

/** Where the schema stands after {@link migrate}. */
export interface MigrationReport {
  readonly from: number;
  readonly to: number;
}

/**
 * Checks the schema `schema` and applies missing migrations (unless `apply` is false, when a
 * schema that is behind is an error). Runs on `client` in its own transaction.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  where: string,
  apply: boolean,
): Promise<MigrationReport> {
  await client.query("BEGIN");
  try {
    await query(client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `endure-migrate:${schema}`,
    ]);
    const from = await currentVersion(client, schema, where);
    if (from > SCHEMA_VERSION) {
      throw new StoreTooNewError(
        `the endure schema "${schema}" in ${where} has version ${from}, newer than the ` +
          `${SCHEMA_VERSION} this endure understands; upgrade endure (nothing was changed)`,
      );
    }
    if (from < SCHEMA_VERSION && !apply) {
      throw new StoreOutdatedError(
        `the endure schema "${schema}" in ${where} has version ${from}, but this endure needs ` +
          `${SCHEMA_VERSION}; run \`endure migrate\` first (nothing was changed)`,
      );
    }
    if (from === 0) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE ${quoteIdent(schema)}.migrations (version integer PRIMARY KEY, ` +
          "applied_at timestamptz NOT NULL DEFAULT now())",
      );
    }
    for (let v = from + 1; v <= SCHEMA_VERSION; v++) {
      await client.query(migrationSql(v, schema));
      await client.query(`INSERT INTO ${quoteIdent(schema)}.migrations (version) VALUES ($1)`, [v]);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, SCHEMA_VERSION) };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** The schema's version: 0 when it does not exist yet (or exists empty). */
async function currentVersion(
  client: pg.ClientBase,
  schema: string,
  where: string,
): Promise<number> {
  const [found] = await query<{ tables: number; marked: boolean }>(
    client,
    `SELECT (SELECT count(*)::int FROM pg_tables WHERE schemaname = $1) AS tables,
            to_regclass($2) IS NOT NULL AS marked`,
    [schema, `${quoteIdent(schema)}.migrations`],
  );
  if (found === undefined || (!found.marked && found.tables === 0)) return 0;
  if (!found.marked) {
    throw new StoreNotEndureError(
      `the schema "${schema}" in ${where} holds tables of another application (it has no ` +
        "endure migrations table); give postgresStore another schema name",
    );
  }
  const [row] = await query<{ version: number | null }>(
    client,
    `SELECT max(version) AS version FROM ${quoteIdent(schema)}.migrations`,
  );
  return row?.version ?? 0;
}
