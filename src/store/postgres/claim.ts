// Claiming on PostgreSQL: candidates are locked FOR UPDATE SKIP LOCKED, so workers claiming
// at once never wait for each other nor take the same run; leases are renewed and expire on
// the database's clock. Concurrency limits are counted from the runs that hold a lease, under one advisory
// lock, so every worker sees the others' claims.
import type pg from "pg";
import { fullSlots, pickWithinLimits, slotOf } from "../flow-control.js";
import type { ClaimedRun, ClaimRequest } from "../store.js";
import { query } from "./connection.js";
import { quoteIdent } from "./schema.js";
import { RUN_COLUMNS, toRunRecord as toRecord, type RunRow } from "../sql-rows.js";
import { BEGIN_BOUNDED } from "./settings.js";

interface Candidate {
  id: string;
  workflow: string;
  concurrencyKey: string | null;
  takeover: boolean;
}

/**
 * The journal row a claim writes, in its transaction, at the run's next sequence number. It
 * fences the previous holder's appends, which continue its own numbering: the first one
 * collides with this row on the journal's primary key (see fast-append.ts).
 * Readers skip it.
 */
export const LEASE_MARK = "lease_taken";

/** Entry types that are not progress: a run that only gathers these is crash-looping. */
const NOT_PROGRESS = `('run_recovered', 'run_resumed', 'step_attempt_started', '${LEASE_MARK}')`;

function candidatesSql(S: string): string {
  const cols = "id, workflow, concurrency_key";
  const notFull = `NOT EXISTS (SELECT 1 FROM unnest($6::text[], $7::text[]) AS f(w, k)
                                WHERE f.w = workflow AND f.k = coalesce(concurrency_key, ''))`;
  // Pinned to a version this worker registers ($8 false: any version will do).
  const pinnedHere = `EXISTS (SELECT 1 FROM unnest($9::text[], $10::text[]) AS v(w, ver)
                              WHERE v.w = workflow AND v.ver IS NOT DISTINCT FROM version)`;
  const inVersions = `(NOT $8 OR ${pinnedHere})`;
  return `
WITH own AS (
  SELECT ${cols}, true AS takeover, 0 AS cls, 0 AS priority, 0::bigint AS ord FROM ${S}.runs
  WHERE $3 AND status = 'running' AND owner = $1 AND workflow = ANY($2::text[]) AND ${inVersions}
  LIMIT $4 FOR UPDATE SKIP LOCKED
), orphaned AS (
  SELECT ${cols}, true, 1, 0, 0::bigint FROM ${S}.runs
  WHERE status = 'running' AND lease_expires_at <= clock_timestamp() AND owner <> $1
    AND workflow = ANY($2::text[]) AND ${inVersions}
  ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED
), pending AS (
  SELECT ${cols}, false, 2, priority, created_at FROM ${S}.runs
  WHERE status = 'pending' AND workflow = ANY($2::text[]) AND ${inVersions} AND ${notFull}
  ORDER BY priority DESC, created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
), due AS (
  SELECT ${cols}, false, 2, priority, wake_at FROM ${S}.runs
  WHERE status = 'waiting' AND wake_at <= $5 AND workflow = ANY($2::text[]) AND ${inVersions}
    AND ${notFull}
  ORDER BY wake_at LIMIT $4 FOR UPDATE SKIP LOCKED
), diverged AS (
  SELECT ${cols}, false, 3, priority, created_at FROM ${S}.runs
  WHERE $3 AND status = 'paused'
    AND (paused_reason IN ('non_determinism', 'upcast_failed') OR (paused_reason = 'version_missing' AND $8))
    AND workflow = ANY($2::text[]) AND ${inVersions}
  LIMIT $4 FOR UPDATE SKIP LOCKED
), versionless AS (
  -- Pinned to a version this worker lacks, and no worker took it within the grace: this
  -- worker claims it to pause it.
  SELECT ${cols}, false, 4, priority, created_at FROM ${S}.runs
  WHERE $8 AND workflow = ANY($2::text[]) AND NOT ${pinnedHere}
    AND ((status = 'pending' AND updated_at <= $12)
      OR (status = 'waiting' AND wake_at <= $12)
      OR (status = 'running' AND lease_expires_at <= clock_timestamp() - $11 * interval '1 millisecond'))
  LIMIT $4 FOR UPDATE SKIP LOCKED
)
SELECT id, workflow, concurrency_key AS "concurrencyKey", takeover FROM (
  SELECT * FROM own UNION ALL SELECT * FROM orphaned UNION ALL SELECT * FROM pending
  UNION ALL SELECT * FROM due UNION ALL SELECT * FROM diverged UNION ALL SELECT * FROM versionless
) c ORDER BY cls, priority DESC, ord`;
}

function takeSql(S: string): string {
  return `
UPDATE ${S}.runs r SET status = 'running', owner = $1, epoch = r.epoch + 1,
  lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond',
  wake_at = NULL, paused_reason = NULL, updated_at = $3,
  recoveries = CASE WHEN NOT c.takeover THEN 0
                    WHEN p.progress > r.progress_mark THEN 1 ELSE r.recoveries + 1 END,
  progress_mark = CASE WHEN c.takeover THEN p.progress ELSE r.progress_mark END
FROM unnest($4::text[], $5::bool[]) AS c(id, takeover)
CROSS JOIN LATERAL (
  SELECT coalesce(max(j.seq), 0) AS progress FROM ${S}.journal j
  WHERE c.takeover AND j.run_id = c.id AND j.type NOT IN ${NOT_PROGRESS}
) p
WHERE r.id = c.id
RETURNING ${RUN_COLUMNS.split(", ")
    .map((col) => `r.${col}`)
    .join(", ")}, c.takeover`;
}

/** A claimed run, with the sequence number of the row that marks its new lease. */
export interface Claimed extends ClaimedRun {
  readonly markSeq: number;
}

function markSql(S: string): string {
  return `
INSERT INTO ${S}.journal (run_id, seq, type, at, data)
SELECT c.id, coalesce((SELECT max(j.seq) FROM ${S}.journal j WHERE j.run_id = c.id), 0) + 1,
       '${LEASE_MARK}', $2, json_build_object('worker', $3::text, 'epoch', r.epoch + 1)::text
FROM unnest($1::text[]) AS c(id) JOIN ${S}.runs r ON r.id = c.id
ON CONFLICT (run_id, seq) DO NOTHING
RETURNING run_id, seq`;
}

/** Claims runs for `r` on `client`, in one transaction. */
export async function claimRuns(
  client: pg.ClientBase,
  schema: string,
  r: ClaimRequest,
): Promise<Claimed[]> {
  const S = quoteIdent(schema);
  const limited = r.workflows.filter((w) => r.concurrency[w] !== undefined);
  await client.query(BEGIN_BOUNDED);
  try {
    const running = new Map<string, number>();
    if (limited.length > 0) {
      // One lock for every limited claim: counts read after it include all earlier claims.
      await query(client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
        `endure-limits:${schema}`,
      ]);
      const counts = await query<{ workflow: string; key: string; n: number }>(
        client,
        `SELECT workflow, coalesce(concurrency_key, '') AS key, count(*)::int AS n FROM ${S}.runs
         WHERE status = 'running' AND workflow = ANY($1::text[])
         GROUP BY workflow, coalesce(concurrency_key, '')`,
        [limited],
      );
      for (const c of counts) running.set(slotOf(c.workflow, c.key), c.n);
    }
    const full = fullSlots(running, r);
    const pairs = Object.entries(r.versions ?? {}).flatMap(([w, vs]) => vs.map((v) => [w, v]));
    const candidates = await query<Candidate>(client, candidatesSql(S), [
      r.workerId,
      r.workflows,
      r.recovering,
      r.limit,
      r.now,
      full.map(([w]) => w),
      full.map(([, k]) => k),
      r.versions !== undefined,
      pairs.map(([w]) => w),
      pairs.map(([, v]) => v),
      r.versionGraceMs ?? 0,
      r.now - (r.versionGraceMs ?? 0),
    ]);
    const picked = pickWithinLimits(candidates, r, running);
    // Mark the new leases; a run whose holder is appending this very moment keeps it (its
    // mark would collide with that append): it is left out, for a later claim.
    const marks =
      picked.length === 0
        ? []
        : await query<{ run_id: string; seq: number }>(client, markSql(S), [
            picked.map((c) => c.id),
            r.now,
            r.workerId,
          ]);
    const markSeq = new Map(marks.map((m) => [m.run_id, m.seq]));
    const chosen = picked.filter((c) => markSeq.has(c.id));
    const rows =
      chosen.length === 0
        ? []
        : await query<RunRow & { takeover: boolean }>(client, takeSql(S), [
            r.workerId,
            r.leaseMs,
            r.now,
            chosen.map((c) => c.id),
            chosen.map((c) => c.takeover),
          ]);
    if (rows.length !== marks.length) {
      // A mark without its claim would leave a gap: claim nothing rather than that.
      throw new Error(`claimed ${rows.length} runs but marked ${marks.length}`);
    }
    await client.query("COMMIT");
    const order = new Map(chosen.map((c, i) => [c.id, i]));
    rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return rows.map((row) => ({
      run: toRecord(row),
      takeover: row.takeover,
      markSeq: markSeq.get(row.id) ?? 0,
    }));
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** Renews the leases of runs `workerId` holds; returns the runs whose lease it no longer has. */
export async function renewLeases(
  c: pg.ClientBase,
  S: string,
  workerId: string,
  held: readonly { runId: string; epoch: number }[],
  leaseMs: number,
): Promise<string[]> {
  // Renewal never waits on a row lock (SKIP LOCKED): one statement renews all of a worker's
  // leases, and waiting behind one run's lock would let every other lease run out. A run
  // whose row is locked now is still held (read without a lock) and is renewed next beat.
  const kept = await query<{ id: string }>(
    c,
    `WITH held AS (
       SELECT r.id FROM ${S}.runs r JOIN unnest($3::text[], $4::bigint[]) AS h(id, epoch)
         ON r.id = h.id AND r.epoch = h.epoch
       WHERE r.owner = $1 AND r.status = 'running'),
     free AS (
       SELECT r.id FROM ${S}.runs r WHERE r.id IN (SELECT id FROM held)
       FOR UPDATE SKIP LOCKED),
     renewed AS (
       UPDATE ${S}.runs r SET lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond'
       FROM free WHERE r.id = free.id AND r.owner = $1 AND r.status = 'running'
       RETURNING r.id)
     SELECT id FROM held`,
    [workerId, leaseMs, held.map((h) => h.runId), held.map((h) => h.epoch)],
  );
  const ok = new Set(kept.map((k) => k.id));
  return held.filter((h) => !ok.has(h.runId)).map((h) => h.runId);
}
