// Runs' data keys on PostgreSQL (see store/run-keys.ts). Each statement touches the rows of
// the runs it names; a shred locks the run's row so that it cannot be retried meanwhile.
import type pg from "pg";
import { TERMINAL_STATUSES, type RunStatus } from "../../core/types.js";
import type { RunKeyRecord, ShredResult } from "../run-keys.js";
import { query } from "./connection.js";

interface RunKeyRow {
  run_id: string;
  wrapped: string | null;
  created_at: string | number;
  shredded_at: string | number | null;
}

const COLUMNS = "run_id, wrapped, created_at, shredded_at";

function toRecord(row: RunKeyRow): RunKeyRecord {
  return {
    runId: row.run_id,
    wrapped: row.wrapped,
    createdAt: Number(row.created_at),
    shreddedAt: row.shredded_at === null ? null : Number(row.shredded_at),
  };
}

/** Stores keys for runs that have none (inside the caller's transaction); returns each run's. */
export async function putRunKeys(
  c: pg.ClientBase,
  S: string,
  keys: readonly { runId: string; wrapped: string }[],
  now: number,
): Promise<RunKeyRecord[]> {
  const ids = keys.map((k) => k.runId);
  await query(
    c,
    `INSERT INTO ${S}.run_keys (run_id, wrapped, created_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
     ON CONFLICT (run_id) DO NOTHING`,
    [ids, keys.map((k) => k.wrapped), keys.map(() => now)],
  );
  const stored = await readRunKeys(c, S, ids);
  const byId = new Map(stored.map((r) => [r.runId, r]));
  return ids.map((id) => byId.get(id) as RunKeyRecord);
}

export async function readRunKeys(
  c: pg.ClientBase,
  S: string,
  runIds: readonly string[],
): Promise<RunKeyRecord[]> {
  const rows = await query<RunKeyRow>(
    c,
    `SELECT ${COLUMNS} FROM ${S}.run_keys WHERE run_id = ANY($1::text[])`,
    [runIds],
  );
  return rows.map(toRecord);
}

/** Inside the caller's transaction. */
export async function shredRun(
  c: pg.ClientBase,
  S: string,
  runId: string,
  now: number,
): Promise<ShredResult> {
  const [run] = await query<{ status: string }>(
    c,
    `SELECT status FROM ${S}.runs WHERE id = $1 FOR UPDATE`,
    [runId],
  );
  if (run === undefined) return { kind: "not_found" };
  const [key] = await query<RunKeyRow>(
    c,
    `SELECT ${COLUMNS} FROM ${S}.run_keys WHERE run_id = $1 FOR UPDATE`,
    [runId],
  );
  if (key === undefined) return { kind: "no_key" };
  if (key.shredded_at !== null) return { kind: "already", shreddedAt: Number(key.shredded_at) };
  if (!TERMINAL_STATUSES.has(run.status as RunStatus))
    return { kind: "not_ended", status: run.status };
  await query(c, `UPDATE ${S}.run_keys SET wrapped = NULL, shredded_at = $2 WHERE run_id = $1`, [
    runId,
    now,
  ]);
  await query(c, `UPDATE ${S}.waits SET value = NULL WHERE run_id = $1`, [runId]);
  return { kind: "shredded", shreddedAt: now };
}

export async function listRunKeys(
  c: pg.ClientBase,
  S: string,
  afterRunId: string | null,
  limit: number,
): Promise<RunKeyRecord[]> {
  const rows = await query<RunKeyRow>(
    c,
    `SELECT ${COLUMNS} FROM ${S}.run_keys
     WHERE wrapped IS NOT NULL AND ($1::text IS NULL OR run_id > $1)
     ORDER BY run_id LIMIT $2`,
    [afterRunId, limit],
  );
  return rows.map(toRecord);
}

export async function rewrapRunKey(
  c: pg.ClientBase,
  S: string,
  runId: string,
  from: string,
  to: string,
): Promise<boolean> {
  const rows = await query<{ run_id: string }>(
    c,
    `UPDATE ${S}.run_keys SET wrapped = $3 WHERE run_id = $1 AND wrapped = $2 RETURNING run_id`,
    [runId, from, to],
  );
  return rows.length === 1;
}
