// Reading runs on PostgreSQL: one run, a page of runs newest first, a page of a run's output
// stream, and the earliest timer of a waiting run.
import type pg from "pg";
import type { RunFilter, RunPage, RunRecord } from "../store.js";
import type { StoredChunk } from "../stream.js";
import {
  cursorOf,
  parseCursor,
  RUN_COLUMNS,
  toRunRecord as toRecord,
  type RunRow,
} from "../sql-rows.js";
import { query } from "./connection.js";

/** The run, or null when no run has the id. */
export async function readRun(
  c: pg.ClientBase,
  S: string,
  runId: string,
): Promise<RunRecord | null> {
  const [row] = await query<RunRow>(c, `SELECT ${RUN_COLUMNS} FROM ${S}.runs WHERE id = $1`, [
    runId,
  ]);
  return row === undefined ? null : toRecord(row);
}

/** Runs newest first, after the filter's cursor. */
export async function readRunPage(
  c: pg.ClientBase,
  S: string,
  filter: RunFilter,
): Promise<RunPage> {
  const [cursorAt, cursorId] = parseCursor(filter.cursor);
  const rows = await query<RunRow>(
    c,
    `SELECT ${RUN_COLUMNS} FROM ${S}.runs
     WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
       AND ($3::bigint IS NULL OR (created_at, id) < ($3, $4::text))
       AND ($6::bigint IS NULL OR created_at >= $6) AND ($7::bigint IS NULL OR created_at < $7)
       AND ($8::text IS NULL OR strpos(id, $8) > 0)
       AND ($9::text IS NULL OR parent_id = $9)
     ORDER BY created_at DESC, id DESC LIMIT $5`,
    [
      filter.workflow ?? null,
      filter.status ?? null,
      cursorAt,
      cursorId,
      filter.limit + 1,
      filter.createdAfter ?? null,
      filter.createdBefore ?? null,
      filter.idContains ?? null,
      filter.parentId ?? null,
    ],
  );
  const more = rows.length > filter.limit;
  const page = rows.slice(0, filter.limit).map(toRecord);
  const last = page[page.length - 1];
  return { runs: page, next: more && last !== undefined ? cursorOf(last) : null };
}

/** Up to `limit` parts of the run's output stream, from `fromOffset` on. */
export function readStreamRows(
  c: pg.ClientBase,
  S: string,
  runId: string,
  fromOffset: number,
  limit: number,
): Promise<StoredChunk[]> {
  return query<StoredChunk>(
    c,
    `SELECT seq AS "offset", at, data FROM ${S}.stream
     WHERE run_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
    [runId, fromOffset, limit],
  );
}

/** When the first waiting run wakes, or null when none waits on a timer. */
export async function readNextWakeAt(c: pg.ClientBase, S: string): Promise<number | null> {
  const [row] = await query<{ at: number | null }>(
    c,
    `SELECT min(wake_at) AS at FROM ${S}.runs WHERE status = 'waiting'`,
  );
  return row?.at ?? null;
}
