// Reading and appending journal rows on PostgreSQL. Rows that mark a claim's lease
// (LEASE_MARK) take a sequence number but are no entries: readers skip them.
import type pg from "pg";
import type { JournalEntry, NewEntry } from "../../core/journal.js";
import type { JournalRange, RunWrite } from "../store.js";
import { LEASE_MARK } from "./claim.js";
import { query } from "./connection.js";
import { ENTRY_COLUMNS, toEntries, toEntryRows as toRows, type EntryRow } from "../sql-rows.js";

/** Where the newest segment of run `id` starts: the seq of its last run_continued, else 0
 * (found through the journal_segments index). */
const segmentStart = (S: string, id: string): string =>
  `(SELECT coalesce(max(seq), 0) FROM ${S}.journal WHERE run_id = ${id} AND type = 'run_continued')`;

/** A run's journal, in order: all of it, or its newest segment. */
export async function readJournal(
  c: pg.ClientBase,
  S: string,
  runId: string,
  range: JournalRange = "all",
): Promise<JournalEntry[]> {
  const from = range === "segment" ? ` AND seq >= ${segmentStart(S, "$1")}` : "";
  const rows = await query<EntryRow>(
    c,
    `SELECT ${ENTRY_COLUMNS} FROM ${S}.journal
     WHERE run_id = $1 AND type <> '${LEASE_MARK}'${from} ORDER BY seq`,
    [runId],
  );
  return toEntries(runId, rows);
}

/** The journals of several runs in one query, each from its newest segment on. */
export async function readJournals(
  c: pg.ClientBase,
  S: string,
  runIds: readonly string[],
): Promise<Map<string, JournalEntry[]>> {
  const journals = new Map<string, JournalEntry[]>();
  if (runIds.length === 0) return journals;
  const rows = await query<EntryRow & { run_id: string }>(
    c,
    `SELECT j.run_id, ${ENTRY_COLUMNS.replace(/(^|, )/g, "$1j.")}
     FROM unnest($1::text[]) AS r(id)
     CROSS JOIN LATERAL ${segmentStart(S, "r.id")} AS b(start)
     JOIN ${S}.journal j ON j.run_id = r.id AND j.seq >= b.start
     WHERE j.type <> '${LEASE_MARK}' ORDER BY j.run_id, j.seq`,
    [[...runIds]],
  );
  const byRun = new Map<string, EntryRow[]>();
  for (const row of rows) {
    let list = byRun.get(row.run_id);
    if (list === undefined) byRun.set(row.run_id, (list = []));
    list.push(row);
  }
  for (const [runId, list] of byRun) journals.set(runId, toEntries(runId, list));
  return journals;
}

/** The last seq of a run's journal (0 when empty). */
export async function lastSeq(c: pg.ClientBase, S: string, runId: string): Promise<number> {
  const [row] = await query<{ s: number | null }>(
    c,
    `SELECT max(seq) AS s FROM ${S}.journal WHERE run_id = $1`,
    [runId],
  );
  return row?.s ?? 0;
}

/** Appends entries after `seq`; returns the last seq written. */
export async function insertRows(
  c: pg.ClientBase,
  S: string,
  runId: string,
  seq: number,
  entries: readonly NewEntry[],
): Promise<number> {
  const rows = toRows(entries);
  if (rows.length === 0) return seq;
  await query(
    c,
    `INSERT INTO ${S}.journal (run_id, seq, type, at, position, key, data, started_at, started_data)
     SELECT $1, $2 + e.n, e.type, e.at, e.pos, e.key, e.data, e.sat, e.sdata
     FROM unnest($3::text[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[])
       WITH ORDINALITY AS e(type, at, pos, key, data, sat, sdata, n)`,
    [
      runId,
      seq,
      rows.map((r) => r.type),
      rows.map((r) => r.at),
      rows.map((r) => r.position),
      rows.map((r) => r.key),
      rows.map((r) => r.data),
      rows.map((r) => r.started_at),
      rows.map((r) => r.started_data),
    ],
  );
  return seq + rows.length;
}

/**
 * Appends the entries of several runs in one plain INSERT, each numbered after `bases[i]`;
 * returns each run's new last seq. No lock: see `PostgresStore.commit` for how it is fenced.
 */
export async function appendRows(
  c: pg.ClientBase,
  S: string,
  schema: string,
  writes: readonly RunWrite[],
  bases: readonly number[],
): Promise<Map<string, number>> {
  const cols: unknown[][] = Array.from({ length: 9 }, () => []);
  const next = new Map<string, number>();
  writes.forEach((w, i) => {
    let seq = bases[i] ?? 0;
    for (const row of toRows(w.entries)) {
      const values = [w.runId, ++seq, row.type, row.at, row.position, row.key, row.data];
      values.push(row.started_at, row.started_data);
      values.forEach((v, k) => cols[k]?.push(v));
    }
    next.set(w.runId, seq);
  });
  const columns = `INSERT INTO ${S}.journal (run_id, seq, type, at, position, key, data,
     started_at, started_data)`;
  if (cols[0]?.length === 1) {
    // One row (a lone step) as plain values: parsing one-element arrays costs more than it.
    await query(
      c,
      `${columns} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      cols.map((col) => col[0]),
      `endure_append1_${schema}`,
    );
  } else {
    await query(
      c,
      `${columns} SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[],
         $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[])`,
      cols,
      `endure_append_${schema}`,
    );
  }
  return next;
}
