// The handle a transactional step's body gets on PostgreSQL: statements ($1 placeholders) on
// the connection whose transaction will also append the step's journal entries.
import type pg from "pg";
import { InvalidArgumentError } from "../../core/errors.js";
import type { SqlTransaction } from "../../core/types.js";

/** A transaction handle, and `end` to make it refuse use after the transaction is over. */
export function createSqlTransaction(client: pg.ClientBase): {
  tx: SqlTransaction;
  end: () => void;
} {
  let open = true;
  const check = (): void => {
    if (!open) {
      throw new InvalidArgumentError(
        "this transactional step's transaction has ended; use tx only inside the step body, before it returns",
      );
    }
  };
  const tx: SqlTransaction = {
    dialect: "postgres",
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      check();
      const result = await client.query(sql, params as unknown[]);
      return result.rows as Row[];
    },
    async execute(sql: string, params: readonly unknown[] = []) {
      check();
      const result = await client.query(sql, params as unknown[]);
      return { changes: result.rowCount ?? 0 };
    },
  };
  return { tx, end: () => (open = false) };
}
