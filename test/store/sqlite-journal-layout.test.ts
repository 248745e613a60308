// The SQLite journal's layout (schema migration 9): a row's key is its run's number times
// 2^32 plus its seq (the row's number within its run; a row may hold two entries, so readers
// number entries themselves). Proves a file written before it migrates with every journal read back
// as it was, that new rows take their place after the old, and the limit of entries one run
// can number, at its edge.
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import { create, entry, LEASE, T0 } from "../../src/store/conformance-case.js";
import { SQLITE_RUN_ENTRIES_MAX } from "../../src/store/sqlite/limits.js";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "../../src/store/sqlite/schema.js";
import { tempDir } from "../helpers.js";

const SPAN = 2 ** 32;

/** A file at schema version 8, as the release before this layout wrote it. */
function fileAtVersion8(path: string, ids: string[]): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(0, 8)) db.exec(sql);
    const run = db.prepare(
      `INSERT INTO runs (id, workflow, status, input, created_at, updated_at)
       VALUES (?, 'wf', 'pending', '{"n":1}', ?, ?)`,
    );
    const row = db.prepare(
      "INSERT INTO journal (run_id, seq, type, at, position, key, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    // Rows of all runs interleaved, as runs running at once write them.
    ids.forEach((id, i) => run.run(id, T0 + i, T0 + i));
    for (let seq = 1; seq <= 5; seq++) {
      for (const id of ids) {
        if (seq === 1) row.run(id, 1, "run_started", T0, null, null, '{"input":{"n":1}}');
        else row.run(id, seq, "step_succeeded", T0 + seq, seq - 1, `s#${seq}`, `{"result":${seq}}`);
      }
    }
  })();
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma("user_version = 8");
  db.close();
}

describe("SQLite journal layout", () => {
  it("migrates a file written before it, reading every journal back as it was", async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(9);
    const path = join(tempDir(), "v8.db");
    const ids = Array.from({ length: 20 }, () => randomUUID());
    fileAtVersion8(path, ids);
    const before = new Database(path, { readonly: true });
    const rowsBefore = before
      .prepare(
        "SELECT run_id, seq, type, at, position, key, data FROM journal ORDER BY run_id, seq",
      )
      .all();
    before.close();

    const store = sqliteStore(path);
    await store.open();
    for (const id of ids) {
      const journal = await store.readJournal(id);
      expect(journal.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(journal.map((e) => e.data)).toEqual([
        '{"input":{"n":1}}',
        '{"result":2}',
        '{"result":3}',
        '{"result":4}',
        '{"result":5}',
      ]);
    }
    // A run created now is numbered after the old ones, and appends after its first entry.
    await store.commit({
      creates: [create("new-run", "wf", { workerId: "w1", leaseMs: LEASE })],
      writes: [],
      now: T0,
    });
    await store.commit({
      creates: [],
      writes: [
        {
          runId: "new-run",
          epoch: 1,
          entries: [entry("step_succeeded", T0, 1, "a#1", '{"result":1}')],
          update: null,
        },
      ],
      now: T0,
    });
    expect((await store.readJournal("new-run")).map((e) => [e.seq, e.type])).toEqual([
      [1, "run_started"],
      [2, "step_succeeded"],
    ]);
    await store.close();

    const after = new Database(path, { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    const rowsAfter = after
      .prepare(
        `SELECT run_id, seq, type, at, position, key, data FROM journal
         WHERE run_id != 'new-run' ORDER BY run_id, seq`,
      )
      .all();
    expect(rowsAfter).toEqual(rowsBefore);
    // Every row sits at its run's number times 2^32 plus its seq.
    const misplaced = after
      .prepare(
        `SELECT count(*) AS n FROM journal j JOIN runs r ON r.id = j.run_id
         WHERE j.rowid != r.run_no * ${SPAN} + j.seq`,
      )
      .get() as { n: number };
    expect(misplaced.n).toBe(0);
    const numbers = after.prepare("SELECT id, run_no FROM runs ORDER BY run_no").all() as Array<{
      id: string;
      run_no: number;
    }>;
    expect(numbers.map((r) => r.run_no)).toEqual(numbers.map((_, i) => i + 1));
    expect(numbers.at(-1)?.id).toBe("new-run");
    after.close();
  });

  it(`numbers up to SQLITE_RUN_ENTRIES_MAX (${SQLITE_RUN_ENTRIES_MAX}) entries for one run, and refuses the next`, async () => {
    const path = join(tempDir(), "edge.db");
    let store = sqliteStore(path);
    await store.open();
    await store.commit({
      creates: [create("edge", "wf", { workerId: "w1", leaseMs: LEASE })],
      writes: [],
      now: T0,
    });
    await store.close();
    // Move its one entry to one below the limit, as if the run had written that many.
    const db = new Database(path);
    db.prepare(
      `UPDATE journal SET seq = @seq,
         rowid = (SELECT run_no FROM runs WHERE id = 'edge') * ${SPAN} + @seq
       WHERE run_id = 'edge'`,
    ).run({ seq: SQLITE_RUN_ENTRIES_MAX - 1 });
    db.close();

    store = sqliteStore(path);
    await store.open();
    const write = (key: string) =>
      store.commit({
        creates: [],
        writes: [
          {
            runId: "edge",
            epoch: 1,
            entries: [entry("step_succeeded", T0, 1, key, '{"result":1}')],
            update: null,
          },
        ],
        now: T0,
      });
    await write("last#1");
    const stored = () => {
      const raw = new Database(path, { readonly: true });
      const seqs = raw
        .prepare("SELECT seq FROM journal WHERE run_id = 'edge' ORDER BY rowid")
        .all();
      raw.close();
      return seqs.map((r) => (r as { seq: number }).seq);
    };
    expect(stored()).toEqual([SQLITE_RUN_ENTRIES_MAX - 1, SQLITE_RUN_ENTRIES_MAX]);
    const refused = await write("over#1").catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "journal_too_long" });
    expect((refused as Error).message).toContain("ctx.continueAsNew");
    // What was committed stays.
    expect((await store.readJournal("edge")).map((e) => e.key)).toEqual([null, "last#1"]);
    expect(stored()).toEqual([SQLITE_RUN_ENTRIES_MAX - 1, SQLITE_RUN_ENTRIES_MAX]);
    await store.close();
  });
});
