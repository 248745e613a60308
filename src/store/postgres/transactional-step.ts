// A transactional step on PostgreSQL: the run's queued entries, the SQL of the step's body and
// the entries it returns commit in one transaction, fenced by the run's epoch.
import type pg from "pg";
import type { NewEntry } from "../../core/journal.js";
import type { SqlTransaction } from "../../core/types.js";
import type { EpochCache } from "../epoch-cache.js";
import { sumUsage } from "./commit.js";
import { query } from "./connection.js";
import { insertRows } from "./journal-io.js";
import { createSqlTransaction } from "./sql-transaction.js";

/** One transactional step of a run, as the store's `transaction` receives it. */
export interface TransactionalStep {
  readonly runId: string;
  readonly epoch: number;
  readonly now: number;
  /** The run's entries queued before the step: they commit first. */
  readonly before: readonly NewEntry[];
  readonly body: (tx: SqlTransaction) => Promise<readonly NewEntry[]>;
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
  await client.query("BEGIN");
  let end: (() => void) | null = null;
  try {
    const [fence] = await query<{ epoch: number; last: number | null }>(
      client,
      `SELECT epoch, (SELECT max(seq) FROM ${S}.journal WHERE run_id = $1) AS last
       FROM ${S}.runs WHERE id = $1 AND status = 'running' FOR SHARE`,
      [runId],
    );
    if (fence?.epoch !== epoch) {
      await client.query("ROLLBACK");
      seqs.forget(runId);
      return { kind: "fenced" } as const;
    }
    let seq = seqs.get(runId, epoch) ?? fence.last ?? 0;
    seq = await insertRows(client, S, runId, seq, before);
    const handle = createSqlTransaction(client);
    end = handle.end;
    let entries: readonly NewEntry[];
    try {
      entries = await body(handle.tx);
    } catch (e) {
      bodyFailed = { error: e };
      throw e;
    }
    handle.end();
    seq = await insertRows(client, S, runId, seq, entries);
    const used = sumUsage([...before, ...entries]);
    await query(
      client,
      `UPDATE ${S}.runs SET updated_at = $2, input_tokens = input_tokens + $3,
         output_tokens = output_tokens + $4, cost_usd = cost_usd + $5,
         metered_calls = metered_calls + $6
       WHERE id = $1`,
      [runId, now, used.inputTokens, used.outputTokens, used.costUsd, used.calls],
    );
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
