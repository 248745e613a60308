// The handle a transactional step's body gets on SQLite: statements on the write connection,
// inside the transaction that will also append the step's journal entries.
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../core/errors.js";
import type { SqlTransaction } from "../../core/types.js";

/** Statements of user SQL kept prepared, per connection. */
const PREPARED_STATEMENTS_MAX = 128;

/** A transaction handle, and `end` to make it refuse use after the transaction is over. */
export function createSqlTransaction(db: Database.Database): {
  tx: SqlTransaction;
  end: () => void;
} {
  let open = true;
  const prepared = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    if (!open) {
      throw new InvalidArgumentError(
        "this transactional step's transaction has ended; use tx only inside the step body, before it returns",
      );
    }
    let st = prepared.get(sql);
    if (st === undefined) {
      if (prepared.size >= PREPARED_STATEMENTS_MAX) prepared.clear();
      st = db.prepare(sql);
      prepared.set(sql, st);
    }
    return st;
  };
  const tx: SqlTransaction = {
    dialect: "sqlite",
    query: <Row>(sql: string, params: readonly unknown[] = []) => {
      try {
        return Promise.resolve(statement(sql).all(...params) as Row[]);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    execute: (sql: string, params: readonly unknown[] = []) => {
      try {
        return Promise.resolve({ changes: statement(sql).run(...params).changes });
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  return { tx, end: () => (open = false) };
}
