// A transactional step on PostgreSQL: the run's queued entries, the SQL of the step's body and
// the entries it returns commit in one transaction, fenced by the run's epoch.
import type pg from "pg";
import type { NewEntry } from "../../core/journal.js";
import type { MemoryTx } from "../../core/memory.js";
import type { SqlTransaction } from "../../core/types.js";
import type { EpochCache } from "../epoch-cache.js";
import { sumUsage } from "./commit.js";
import { query } from "./connection.js";
import { insertRows } from "./journal-io.js";
import { TRANSACTIONAL_STEP_IDLE_MS_MAX } from "./settings.js";
import { createSqlTransaction } from "./sql-transaction.js";
import { memoryTx } from "./memory.js";

/** One transactional step of a run, as the store's `transaction` receives it. */
export interface TransactionalStep {
  readonly runId: string;
  readonly epoch: number;
  readonly now: number;
  /** The run's entries queued before the step: they commit first. */
  readonly before: readonly NewEntry[];
  readonly body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>;
  /** The store's schema, unquoted (memory locks are named after it). */
  readonly schema: string;
}

/**
 * Runs `step` in a transaction on `client`; `seqs` holds the runs' last journal seqs. A throw
 * of the body comes back as `{ error }` after the rollback: withClient would turn a throw into
 * a store error, and the step must see the body's own error.
 */
export async function runTransactionalStep(
  client: pg.PoolClient,
  S: string,
  seqs: EpochCache,
  step: TransactionalStep,
): Promise<{ kind: "fenced" } | { kind: "committed" } | { error: unknown }> {
  const { runId, epoch, now, before, body } = step;
  let bodyFailed: { error: unknown } | null = null;
  // The backstop of a worker that stalls inside the body: the core ends a body at its
  // timeout (at most TRANSACTIONAL_STEP_TIMEOUT_MS_MAX), the server a little later.
  await client.query(
    `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${TRANSACTIONAL_STEP_IDLE_MS_MAX}`,
  );
  let end: (() => void) | null = null;
  try {
    // The fence is read without a lock here and checked again, under the row lock, at the end:
    // holding the run's row for the whole body made the one statement that renews all of the
    // worker's leases wait behind it, and its other runs were taken over.
    const [fence] = await query<{ epoch: number; last: number | null }>(
      client,
      `SELECT epoch, (SELECT max(seq) FROM ${S}.journal WHERE run_id = $1) AS last
       FROM ${S}.runs WHERE id = $1 AND status = 'running'`,
      [runId],
    );
    if (fence?.epoch !== epoch) return await fenced(client, seqs, runId);
    const handle = createSqlTransaction(client);
    const mem = memoryTx(client, S, step.schema);
    end = () => {
      handle.end();
      mem.end();
    };
    let entries: readonly NewEntry[];
    try {
      entries = await body(handle.tx, mem.memory);
    } catch (e) {
      bodyFailed = { error: e };
      throw e;
    }
    end();
    const used = sumUsage([...before, ...entries]);
    // Locks the row until COMMIT, a few statements from now: the epoch cannot move under it.
    const kept = await query<{ id: string }>(
      client,
      `UPDATE ${S}.runs SET updated_at = $3, input_tokens = input_tokens + $4,
         output_tokens = output_tokens + $5, cost_usd = cost_usd + $6,
         metered_calls = metered_calls + $7
       WHERE id = $1 AND epoch = $2 AND status = 'running' RETURNING id`,
      [runId, epoch, now, used.inputTokens, used.outputTokens, used.costUsd, used.calls],
    );
    if (kept.length === 0) return await fenced(client, seqs, runId);
    let seq = seqs.get(runId, epoch) ?? fence.last ?? 0;
    seq = await insertRows(client, S, runId, seq, before);
    seq = await insertRows(client, S, runId, seq, entries);
    await client.query("COMMIT");
    seqs.set(runId, epoch, seq);
    return { kind: "committed" } as const;
  } catch (e) {
    end?.();
    seqs.forget(runId);
    await client.query("ROLLBACK").catch(() => undefined);
    if (bodyFailed !== null) return bodyFailed;
    throw e;
  }
}

async function fenced(
  client: pg.PoolClient,
  seqs: EpochCache,
  runId: string,
): Promise<{ kind: "fenced" }> {
  await client.query("ROLLBACK");
  seqs.forget(runId);
  return { kind: "fenced" };
}
