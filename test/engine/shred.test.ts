// Erasure: with aesGcmCodec({ runKeys: true }) each run's payloads are sealed under a data key
// of its own; engine.shred and `endure shred` delete it. Afterwards the run's input, step
// results, errors, output, signals, stream parts, wait values and approval comments read as
// the shredded marker (its result throws run_shredded), nothing of a known secret is in the
// store's raw bytes, nor is the run's wrapped key (so even the key ring cannot read it back),
// while its journal's structure stays and `endure verify` passes; another run is untouched.
// On SQLite (the file and its WAL) and PostgreSQL (every column of every table, and the
// run_keys table's heap file after the shred's vacuum).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  aesGcmCodec,
  createEngine,
  isEndureError,
  isShredded,
  workflow,
  type Engine,
  type EngineOptions,
  type Store,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const codec = aesGcmCodec({
  keys: { k1: Buffer.alloc(32, 0x5a) },
  current: "k1",
  runKeys: true,
});
/** Written by the run to shred; a second secret, by the run that stays. */
const SECRET = "Pii-9c41e7";
const KEPT = "Kept-3b82d0";

const patient = workflow("patient", async (ctx, input: { name: string }) => {
  const record = await ctx.step("lookup", async () => ({ diagnosis: `${input.name}-diagnosis` }));
  ctx.emit({ type: "data-note", data: `${input.name}-stream` });
  const note = await ctx.waitForSignal<{ text: string }>("note", { timeout: "1m" });
  const ok = await ctx.approval("release", {
    title: "Release?",
    details: { d: record.diagnosis },
    timeout: "1m",
  });
  return { record, note: note?.data.text, comment: ok.comment, out: `${input.name}-output` };
});

function options(store: Store): EngineOptions {
  return {
    store,
    workflows: [patient],
    logger: { warn: () => {} },
    gcSchedule: null,
    hashChain: true,
    codec,
  };
}

async function open(o: EngineOptions): Promise<Engine> {
  const engine = await createEngine(o);
  onCleanup(() => engine.close());
  return engine;
}

/** Runs one patient run to its end with `secret` in every kind of payload. */
async function finish(engine: Engine, id: string, secret: string): Promise<void> {
  const run = await engine.start(patient, { name: secret }, { id });
  await eventually(async () => (await engine.explain(id)).sentence.includes("signal 'note'"));
  await engine.signal(id, "note", { text: `${secret}-signal` });
  await eventually(async () => (await engine.approvals({ runId: id })).length === 1);
  await engine.approve(id, "release", { by: "ana", comment: `${secret}-comment` });
  expect(await run.result()).toMatchObject({ out: `${secret}-output` });
}

/** Everything the engine reads of a run, as one text. */
async function readAll(engine: Engine, id: string): Promise<string> {
  return JSON.stringify([
    await engine.getRun(id),
    await engine.journal(id),
    await engine.readStream(id),
    await engine.explain(id),
    (await engine.listRuns({})).runs.filter((r) => r.id === id),
  ]);
}

/** Checks a shredded run through the engine: markers, typed errors, structure kept. */
async function checkShredded(engine: Engine, id: string, before: string[]): Promise<void> {
  const run = await engine.getRun(id);
  expect(run?.status).toBe("completed");
  expect(isShredded(run?.input)).toBe(true);
  const everything = await readAll(engine, id);
  expect(everything).not.toContain(SECRET);
  expect(everything).toContain('"$endure":"shredded"');
  const error = await engine
    .handle(id)
    .result()
    .catch((e: unknown) => e);
  expect(isEndureError(error, "run_shredded"), String(error)).toBe(true);
  const retry = await engine.retry(id).catch((e: unknown) => e);
  expect(isEndureError(retry, "run_shredded"), String(retry)).toBe(true);
  // The journal's structure stays: the same entries, types and keys, in order.
  const journal = await engine.journal(id);
  expect(journal.map((e) => `${e.seq} ${e.type} ${e.key ?? ""}`)).toEqual(before);
  const lookup = journal.find((e) => e.type === "step_succeeded");
  expect(isShredded(lookup?.data)).toBe(true);
  const report = await engine.verify(id);
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.chained).toBe(journal.length);
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function rawSqlite(path: string): string {
  return [path, `${path}-wal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n");
}

describe("shredding a run on SQLite", () => {
  it("makes its payloads unreadable, keeps its structure and hashes, and leaves others alone", async () => {
    const path = join(tempDir(), "shred.db");
    const engine = await open(options(sqliteStore(path, { durability: "fsync" })));
    await finish(engine, "p-1", SECRET);
    await finish(engine, "p-2", KEPT);
    const before = (await engine.journal("p-1")).map((e) => `${e.seq} ${e.type} ${e.key ?? ""}`);
    expect(await readAll(engine, "p-1")).toContain(`${SECRET}-comment`);

    // A run still going is refused; so is one that is not there.
    const going = await engine.start(patient, { name: "x" }, { id: "p-3" });
    const refused = await engine.shred(going.id).catch((e: unknown) => e);
    expect(isEndureError(refused, "invalid_argument")).toBe(true);
    expect((refused as Error).message).toContain("cancel it first");
    expect(
      isEndureError(await engine.shred("nope").catch((e: unknown) => e), "run_not_found"),
    ).toBe(true);

    const db = new Database(path, { readonly: true });
    const wrapped = (
      db.prepare("SELECT wrapped FROM run_keys WHERE run_id = ?").get("p-1") as { wrapped: string }
    ).wrapped;
    db.close();
    expect(wrapped).toContain('"$endure":"sealed"');

    const report = await engine.shred("p-1");
    expect(report).toMatchObject({ runId: "p-1", already: false });
    expect((await engine.shred("p-1")).already).toBe(true);
    await checkShredded(engine, "p-1", before);
    // The other run reads as before.
    expect(await readAll(engine, "p-2")).toContain(`${KEPT}-comment`);
    expect(await engine.handle("p-2").result()).toMatchObject({ out: `${KEPT}-output` });

    // Raw bytes: no secret, and no trace of the wrapped key (file and WAL); the sealed
    // payloads themselves are still there (the rows stay).
    const raw = rawSqlite(path);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(wrapped.slice(-40));
    const rows = new Database(path, { readonly: true });
    const kept = rows.prepare("SELECT data FROM journal WHERE run_id = 'p-1'").all() as Array<{
      data: string;
    }>;
    rows.close();
    expect(kept.length).toBeGreaterThan(5);
    for (const r of kept) expect(r.data).toContain('"key":"run:');

    await engine.close();
    // A new engine with the whole key ring cannot read it either; `endure verify` passes.
    const again = await open({ ...options(sqliteStore(path)), worker: false });
    await checkShredded(again, "p-1", before);
    await again.close();
    const verified = cli(["verify", "p-1", "--store", path]);
    expect(verified.stderr).toBe("");
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain("all in order");
  });

  it("shreds through `endure shred`, which needs no key", async () => {
    const path = join(tempDir(), "cli-shred.db");
    const engine = await open(options(sqliteStore(path)));
    await finish(engine, "p-9", SECRET);
    const before = (await engine.journal("p-9")).map((e) => `${e.seq} ${e.type} ${e.key ?? ""}`);
    await engine.close();
    const out = cli(["shred", "p-9", "--store", path]);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(out.stdout).toContain("run p-9 shredded at");
    const running = cli(["shred", "nope", "--store", path]);
    expect(running.status).not.toBe(0);
    expect(running.stderr).toContain("no run has the id 'nope'");
    const again = await open({ ...options(sqliteStore(path)), worker: false });
    await checkShredded(again, "p-9", before);
  });

  it("refuses runKeys on a store that keeps no run keys, and runs without a key", async () => {
    const path = join(tempDir(), "old.db");
    const plain = await open({
      ...options(sqliteStore(path)),
      codec: aesGcmCodec({ keys: { k1: Buffer.alloc(32, 0x5a) }, current: "k1" }),
    });
    await finish(plain, "old-1", "old");
    const error = await plain.shred("old-1").catch((e: unknown) => e);
    expect(isEndureError(error, "invalid_argument")).toBe(true);
    expect((error as Error).message).toContain("no data key of its own");
    await plain.close();
    // The same run stays readable by an engine with run keys; new runs get theirs.
    const keyed = await open(options(sqliteStore(path)));
    expect(await keyed.handle("old-1").result()).toMatchObject({ out: "old-output" });
    await finish(keyed, "new-1", "new");
    expect((await keyed.shred("new-1")).already).toBe(false);
  });
});

describe("shredding a run on PostgreSQL", () => {
  it("makes its payloads unreadable in every table and the key's old row is vacuumed away", async () => {
    const url = await freshDatabase();
    const engine = await open(options(postgresStore(url)));
    await finish(engine, "p-1", SECRET);
    await finish(engine, "p-2", KEPT);
    const before = (await engine.journal("p-1")).map((e) => `${e.seq} ${e.type} ${e.key ?? ""}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    onCleanup(() => client.end());
    const key = await client.query<{ wrapped: string; file: string }>(
      "SELECT wrapped, pg_relation_filepath('endure.run_keys') AS file FROM endure.run_keys WHERE run_id = 'p-1'",
    );
    const wrapped = key.rows[0]?.wrapped ?? "";
    expect(wrapped).toContain('"$endure":"sealed"');

    await engine.shred("p-1");
    await checkShredded(engine, "p-1", before);
    expect(await readAll(engine, "p-2")).toContain(`${KEPT}-comment`);

    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
    );
    let dump = "";
    for (const t of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      dump += rows.rows.map((r) => r.row).join("\n");
    }
    expect(dump).toContain("run:");
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(wrapped.slice(-40));
    // The table's pages on disk, once written out: the vacuum removed the old row version.
    await client.query("CHECKPOINT");
    const dataDir = await client.query<{ dir: string }>(
      "SELECT current_setting('data_directory') AS dir",
    );
    const heap = join(dataDir.rows[0]?.dir ?? "", key.rows[0]?.file ?? "");
    expect(existsSync(heap), heap).toBe(true);
    expect(readFileSync(heap).toString("latin1")).not.toContain(wrapped.slice(-40));
    const again = await open({ ...options(postgresStore(url)), worker: false });
    await checkShredded(again, "p-1", before);
  });
});
