// Tamper evidence: with hashChain, every journal entry carries a hash chained to the one
// before it (the first to the run's creation). Entries edited, removed or moved in the raw
// SQLite file, a journal cut short, and a changed input are reported by engine.verify and by
// `endure verify` (exit code 7); an untouched journal verifies, with a codec too and without
// its key; engines without hashChain read chained journals as usual. On PostgreSQL, an entry
// edited in its table is reported as well.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { aesGcmCodec, createEngine, workflow, type Engine, type EngineOptions } from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;

const ledger = workflow("ledger", async (ctx, input: { amount: number }) => {
  let total = 0;
  for (const name of ["debit", "credit", "fee", "settle"])
    total += await ctx.step(name, () => input.amount);
  await ctx.sleep("cool", "1ms");
  return total;
});

function options(path: string, extra: Partial<EngineOptions> = {}): EngineOptions {
  return {
    store: sqliteStore(path, { durability: "process" }),
    workflows: [ledger],
    logger: { warn: () => {} },
    gcSchedule: null,
    hashChain: true,
    ...extra,
  };
}

async function open(o: EngineOptions): Promise<Engine> {
  const engine = await createEngine(o);
  onCleanup(() => engine.close());
  return engine;
}

/** A completed run of `ledger` on a new file; the engine is closed. */
async function written(extra: Partial<EngineOptions> = {}): Promise<{ path: string; id: string }> {
  const path = join(tempDir(), "chain.db");
  const engine = await open(options(path, extra));
  const run = await engine.start(ledger, { amount: 5 }, { id: "ledger-1" });
  expect(await run.result()).toBe(20);
  const report = await engine.verify(run.id);
  expect(report).toMatchObject({ ok: true, problems: [] });
  expect(report.chained).toBe(report.entries);
  expect(report.entries).toBeGreaterThan(8);
  await engine.close();
  return { path, id: run.id };
}

/** Changes the raw database with `sql`, outside endure. */
function edit(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

interface Row {
  rowid: number;
  type: string;
  key: string | null;
  data: string | null;
}
const rows = (db: Database.Database, id: string): Row[] =>
  db
    .prepare("SELECT rowid AS rowid, type, key, data FROM journal WHERE run_id = ? ORDER BY seq")
    .all(id) as Row[];

async function verify(path: string, id: string) {
  // A client engine without hashChain and without the key: verification needs neither.
  const reader = await open({ ...options(path, { hashChain: false }), worker: false });
  const report = await reader.verify(id);
  await reader.close();
  return report;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hash chain on SQLite", () => {
  it("verifies an untouched journal, by the engine and by `endure verify`", async () => {
    const { path, id } = await written();
    expect((await verify(path, id)).ok).toBe(true);
    const out = cli(["verify", id, "--store", path]);
    expect(out.stderr).toBe("");
    expect(out.stdout).toMatch(/run ledger-1: \d+ entries, \d+ chained, all in order; head \S{43}/);
    expect(out.status).toBe(0);
  });

  it("reports an entry edited in the raw file, and `endure verify` exits 7", async () => {
    const { path, id } = await written();
    edit(path, (db) => {
      const credit = rows(db, id).find((r) => r.key === "credit#1" && r.type === "step_succeeded");
      expect(credit?.data).toContain('"result":5');
      db.prepare("UPDATE journal SET data = ? WHERE rowid = ?").run(
        credit?.data?.replace('"result":5', '"result":500'),
        credit?.rowid,
      );
    });
    const report = await verify(path, id);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ type: "step_succeeded", key: "credit#1" });
    expect(report.problems[0]?.problem).toContain("edited");
    const out = cli(["verify", id, "--store", path]);
    expect(out.status).toBe(7);
    expect(out.stderr).toMatch(/entry \d+ \(step_succeeded credit#1\) does not follow/);
    const asJson = cli(["verify", id, "--store", path, "--json"]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, runId: id });
  });

  it("reports a removed entry and moved entries where they were", async () => {
    const removed = await written();
    edit(removed.path, (db) => {
      const fee = rows(db, removed.id).find((r) => r.key === "fee#1");
      db.prepare("DELETE FROM journal WHERE rowid = ?").run(fee?.rowid);
    });
    const afterRemoval = await verify(removed.path, removed.id);
    expect(afterRemoval.ok).toBe(false);
    expect(afterRemoval.problems.map((p) => p.key)).toEqual(["settle#1"]);

    const moved = await written();
    edit(moved.path, (db) => {
      // Swap the places of the 'debit' and 'credit' rows: a row's place is its key (its
      // run's number times 2^32 plus its seq), and its seq goes with it.
      const all = rows(db, moved.id);
      const a = all.find((r) => r.key === "debit#1");
      const b = all.find((r) => r.key === "credit#1");
      const seqOf = (r: Row | undefined) =>
        (db.prepare("SELECT seq FROM journal WHERE rowid = ?").get(r?.rowid) as { seq: number })
          .seq;
      const [sa, sb] = [seqOf(a), seqOf(b)];
      const move = db.prepare("UPDATE journal SET rowid = ?, seq = ? WHERE rowid = ?");
      move.run(-1, sb, a?.rowid);
      move.run(a?.rowid, sa, b?.rowid);
      move.run(b?.rowid, sb, -1);
    });
    const afterMove = await verify(moved.path, moved.id);
    expect(afterMove.ok).toBe(false);
    expect(afterMove.problems.map((p) => p.key)).toEqual(
      expect.arrayContaining(["credit#1", "debit#1"]),
    );
  });

  it("reports a journal cut short and a changed input", async () => {
    const cut = await written();
    edit(cut.path, (db) => {
      db.prepare("DELETE FROM journal WHERE run_id = ? AND type = 'run_completed'").run(cut.id);
    });
    const afterCut = await verify(cut.path, cut.id);
    expect(afterCut.ok).toBe(false);
    expect(afterCut.problems[0]?.problem).toContain("must end with run_completed");

    const input = await written();
    edit(input.path, (db) => {
      db.prepare("UPDATE runs SET input = ? WHERE id = ?").run('{"amount":6}', input.id);
    });
    const afterInput = await verify(input.path, input.id);
    expect(afterInput.problems[0]?.seq).toBe(1);
    expect(afterInput.problems[0]?.problem).toContain("creation");
  });

  it("chains sealed entries, verifies them without the key, and reads them without hashChain", async () => {
    const codec = aesGcmCodec({ keys: { k: Buffer.alloc(32, 3) }, current: "k" });
    const { path, id } = await written({ codec });
    expect((await verify(path, id)).ok).toBe(true);
    const reader = await open({ ...options(path, { hashChain: false, codec }), worker: false });
    expect(await reader.handle(id).result()).toBe(20);
    const journal = await reader.journal(id);
    expect(journal.find((e) => e.key === "fee#1" && e.type === "step_succeeded")?.data).toEqual({
      attempt: 1,
      result: 5,
    });
    await reader.close();
    // A journal written without the chain verifies with no hashes, and later chained entries
    // continue from it.
    const plainPath = join(tempDir(), "plain.db");
    const plain = await open(options(plainPath, { hashChain: false }));
    const run = await plain.start(ledger, { amount: 1 }, { id: "old" });
    await run.result();
    expect(await plain.verify("old")).toMatchObject({ ok: true, chained: 0 });
    await plain.close();
    const chaining = await open(options(plainPath));
    await chaining.retry("old").catch(() => undefined);
    expect((await chaining.verify("old")).ok).toBe(true);
  });
});

describe("hash chain on PostgreSQL", () => {
  it("verifies a run and reports an entry edited in its table", async () => {
    const url = await freshDatabase();
    const engine = await open({ ...options(":unused:"), store: postgresStore(url) });
    const run = await engine.start(ledger, { amount: 2 }, { id: "pg-ledger" });
    expect(await run.result()).toBe(8);
    expect(await engine.verify(run.id)).toMatchObject({ ok: true });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    onCleanup(() => client.end());
    const updated = await client.query(
      `UPDATE endure.journal SET data = replace(data, '"result":2', '"result":3')
       WHERE run_id = $1 AND key = 'fee#1' AND data LIKE '%"result":2%'`,
      [run.id],
    );
    expect(updated.rowCount).toBe(1);
    const report = await engine.verify(run.id);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.key)).toEqual(["fee#1"]);
  });
});
