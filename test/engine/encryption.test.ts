// Encryption at rest: with a codec, no payload of a run (its input, step results and errors,
// stream parts, events, signals, approval details and comments, output) reaches the database
// in plaintext, on SQLite (the file and its WAL, read as raw bytes) and on PostgreSQL (every
// column of every table of the schema); old keys stay readable after a rotation; a missing or
// wrong key and an altered ciphertext fail with typed errors naming the key and the entry.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  aesGcmCodec,
  createEngine,
  isEndureError,
  limits,
  workflow,
  type Codec,
  type Engine,
  type EngineOptions,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2).toString("base64");
const ringA = aesGcmCodec({ keys: { "2026-a": KEY_A }, current: "2026-a" });
const ringAB = aesGcmCodec({ keys: { "2026-a": KEY_A, "2026-b": KEY_B }, current: "2026-b" });

/** A secret no part of endure writes by itself: it reaches the store only through payloads. */
const SECRET = "Sekr3t-7f3a91";

const vault = workflow("vault", async (ctx, input: { ssn: string }) => {
  const card = await ctx.step("lookup", async () => ({ card: `${SECRET}-step`, ssn: input.ssn }));
  let failed = false;
  await ctx.step(
    "flaky",
    async () => {
      if (!failed) {
        failed = true;
        throw new Error(`${SECRET}-attempt-error`);
      }
      return "ok";
    },
    { retries: 2, backoff: { initial: "1ms", max: "1ms" } },
  );
  ctx.emit({ type: "data-note", data: `${SECRET}-stream` });
  await ctx
    .memory<string[]>("patients", "p-1")
    .update((notes) => [...(notes ?? []), `${SECRET}-memory`]);
  const go = await ctx.waitForSignal<{ note: string }>("go", { timeout: "1m" });
  // The event was sent before this wait began: the store matches it on its (sealed) data.
  const early = await ctx.waitForEvent<{ ticket: string; body: string }>("early", {
    event: "vault.reply",
    match: { "data.ticket": "T-early" },
    timeout: "1m",
  });
  // This one arrives while the run waits.
  const late = await ctx.waitForEvent<{ ticket: string; body: string }>("late", {
    event: "vault.reply",
    match: { "data.ticket": "T-late" },
    timeout: "1m",
  });
  const ok = await ctx.approval("release", {
    title: "Release the card?",
    details: { card: card.card },
    timeout: "1m",
  });
  return {
    done: `${SECRET}-output`,
    card: card.card,
    go: go?.data.note,
    early: early?.data.body,
    late: late?.data.body,
    comment: ok.comment,
  };
});

const broken = workflow("broken", async (ctx, input: { why: string }) => {
  await ctx.step(
    "explode",
    async () => {
      throw new Error(`${SECRET}-failure ${input.why}`);
    },
    { retries: 0 },
  );
});

async function waitingFor(engine: Engine, runId: string, what: string): Promise<void> {
  await eventually(
    async () => (await engine.explain(runId)).sentence.includes(what),
    10_000,
    `run ${runId} waiting for ${what}`,
  ).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}: ${(await engine.explain(runId)).sentence}`);
  });
}

/** Runs every kind of payload through the engine; returns the vault run's id. */
async function workload(engine: Engine): Promise<string> {
  const run = await engine.start(vault, { ssn: `${SECRET}-input` }, { id: "vault-1" });
  await waitingFor(engine, run.id, "signal 'go'");
  await engine.sendEvent({
    name: "vault.reply",
    id: "reply-early",
    data: { ticket: "T-early", body: `${SECRET}-event-early` },
  });
  await engine.signal(run.id, "go", { note: `${SECRET}-signal` });
  await waitingFor(engine, run.id, "event 'vault.reply'");
  await engine.sendEvent({
    name: "vault.reply",
    id: "reply-late",
    data: { ticket: "T-late", body: `${SECRET}-event-late` },
  });
  await waitingFor(engine, run.id, "approval 'release'");
  const [pending] = await engine.approvals({ runId: run.id });
  expect(pending?.details).toEqual({ card: `${SECRET}-step` });
  await engine.approve(run.id, "release", { by: "ana", comment: `${SECRET}-comment "quoted"` });
  expect(await run.result()).toEqual({
    done: `${SECRET}-output`,
    card: `${SECRET}-step`,
    go: `${SECRET}-signal`,
    early: `${SECRET}-event-early`,
    late: `${SECRET}-event-late`,
    comment: `${SECRET}-comment "quoted"`,
  });
  const failing = await engine.start(broken, { why: "input" }, { id: "broken-1" });
  await expect(failing.result()).rejects.toThrow(`${SECRET}-failure input`);
  // Everything reads back: the journal, the stream, the run's fields.
  const journal = JSON.stringify(await engine.journal(run.id));
  expect(journal).toContain(`${SECRET}-attempt-error`);
  expect(journal).toContain(`${SECRET}-event-late`);
  const parts = await engine.readStream(run.id);
  expect(JSON.stringify(parts)).toContain(`${SECRET}-stream`);
  expect((await engine.getRun(run.id))?.input).toEqual({ ssn: `${SECRET}-input` });
  expect(JSON.stringify(await engine.memory("patients", "p-1").get())).toContain(
    `${SECRET}-memory`,
  );
  return run.id;
}

function sqliteOptions(path: string, codec: Codec | undefined): EngineOptions {
  return {
    store: sqliteStore(path, { durability: "fsync" }),
    workflows: [vault, broken],
    logger: { warn: () => {} },
    gcSchedule: null,
    ...(codec === undefined ? {} : { codec }),
  };
}

async function open(options: EngineOptions): Promise<Engine> {
  const engine = await createEngine(options);
  onCleanup(() => engine.close());
  return engine;
}

/**
 * Every text column of the stores' schemas, by whether it holds payloads. A table or column
 * added later fails the tests below until it is listed here: a payload column must be sealed
 * by the codec (see src/protect/sealed-store.ts), anything else must be said not to be one.
 */
const SEALED_COLUMNS = new Set([
  "runs.input",
  "runs.output",
  "runs.error",
  "journal.data",
  "journal.started_data",
  "events.data",
  "signals.data",
  "waits.details",
  "waits.value",
  "decisions.comment",
  "stream.data",
  "memory.value",
  "memory_history.value",
  // A run's data key, sealed by the ring (aesGcmCodec({ runKeys: true })).
  "run_keys.wrapped",
]);
/** Columns that hold no payload: ids, names, kinds, statuses, match shapes and keys. */
const PLAIN_COLUMNS = new Set([
  "runs.id",
  "runs.workflow",
  "runs.version",
  "runs.status",
  "runs.paused_reason",
  "runs.owner",
  "runs.cancel_requested",
  "runs.concurrency_key",
  "runs.usage",
  "runs.parent_id",
  "runs.detached",
  "journal.run_id",
  "journal.type",
  "journal.key",
  "events.id",
  "events.name",
  "waits.run_id",
  "waits.key",
  "waits.kind",
  "waits.target",
  "waits.match_paths",
  "waits.match_key",
  "waits.added_approvers",
  "waits.status",
  "consumed_events.run_id",
  "signals.run_id",
  "signals.name",
  "decisions.run_id",
  "decisions.by",
  "decisions.role",
  "cursors.name",
  "rate_limits.key",
  "stream.run_id",
  "stream.key",
  "event_shapes.name",
  "event_shapes.paths",
  "memory.namespace",
  "memory.key",
  "memory.run_id",
  "memory.by",
  "memory_history.namespace",
  "memory_history.key",
  "memory_history.run_id",
  "memory_history.by",
  "meta.key",
  "meta.value",
  "workers.id",
  "run_keys.run_id",
]);

/** Checks every text column of a database: listed, and sealed where it holds payloads. */
function checkColumns(columns: ReadonlyMap<string, readonly (string | null)[]>): void {
  for (const [column, values] of columns) {
    const listed = SEALED_COLUMNS.has(column) || PLAIN_COLUMNS.has(column);
    expect(listed, `column ${column} is neither a sealed payload nor listed as plain`).toBe(true);
    if (!SEALED_COLUMNS.has(column)) continue;
    for (const v of values) {
      if (v === null) continue;
      // A wait's value is composed by the store around the sealed event or signal.
      if (column === "waits.value") expect(v, column).toMatch(/"\$endure\\?":\\?"sealed/);
      else expect(v.startsWith('{"$endure":"sealed"'), `${column}: ${v.slice(0, 60)}`).toBe(true);
    }
  }
}

/** The raw bytes of a SQLite database: the file and its write-ahead log. */
function rawSqlite(path: string): string {
  const files = [path, `${path}-wal`].filter((f) => existsSync(f));
  expect(files).toContain(path);
  return files.map((f) => readFileSync(f).toString("latin1")).join("\n");
}

describe("encryption at rest on SQLite", () => {
  it("leaves no plaintext of a payload in the file or its WAL", async () => {
    const path = join(tempDir(), "sealed.db");
    const engine = await open(sqliteOptions(path, ringA));
    await workload(engine);
    // While the engine is open, the newest pages are in the WAL.
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(rawSqlite(path)).toContain('"$endure":"sealed"');
    expect(rawSqlite(path)).not.toContain(SECRET);
    await engine.close();
    expect(rawSqlite(path)).not.toContain(SECRET);

    const db = new Database(path, { readonly: true });
    onCleanup(() => {
      db.close();
    });
    const columns = new Map<string, (string | null)[]>();
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    for (const { name } of tables) {
      const info = db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{
        name: string;
        type: string;
      }>;
      for (const c of info) {
        if (c.type.toUpperCase() !== "TEXT" && c.type !== "") continue;
        const values = db.prepare(`SELECT "${c.name}" AS v FROM "${name}"`).all() as Array<{
          v: string | null;
        }>;
        columns.set(
          `${name}.${c.name}`,
          values.map((r) => r.v),
        );
      }
    }
    expect(columns.size).toBeGreaterThan(20);
    checkColumns(columns);
  });

  it("shows the secret without a codec (the check above can fail)", async () => {
    const path = join(tempDir(), "plain.db");
    const engine = await open(sqliteOptions(path, undefined));
    await workload(engine);
    await engine.close();
    const raw = rawSqlite(path);
    for (const part of [
      "input",
      "step",
      "attempt-error",
      "stream",
      "signal",
      "event-early",
      "memory",
    ])
      expect(raw).toContain(`${SECRET}-${part}`);
    expect(raw).toContain(`${SECRET}-comment`);
    expect(raw).toContain(`${SECRET}-output`);
    expect(raw).toContain(`${SECRET}-failure`);
  });

  it("keeps runs sealed under an old key readable after a rotation", async () => {
    const path = join(tempDir(), "rotate.db");
    const before = await open(sqliteOptions(path, ringA));
    const oldRun = await workload(before);
    await before.close();
    const after = await open(sqliteOptions(path, ringAB));
    expect(await after.handle(oldRun).result()).toMatchObject({ done: `${SECRET}-output` });
    expect(JSON.stringify(await after.journal(oldRun))).toContain(`${SECRET}-event-early`);
    // New payloads are sealed with the new key, old ones keep theirs.
    const fresh = await after.start(broken, { why: "after rotation" }, { id: "broken-2" });
    await expect(fresh.result()).rejects.toThrow("after rotation");
    await after.close();
    const db = new Database(path, { readonly: true });
    onCleanup(() => {
      db.close();
    });
    const input = (id: string) =>
      (db.prepare("SELECT input FROM runs WHERE id = ?").get(id) as { input: string }).input;
    expect(input(oldRun)).toContain('"key":"2026-a"');
    expect(input("broken-2")).toContain('"key":"2026-b"');
    // The new key alone cannot read the old run, and says which key it needs.
    const newOnly = aesGcmCodec({ keys: { "2026-b": KEY_B }, current: "2026-b" });
    const reader = await open({ ...sqliteOptions(path, newOnly), worker: false });
    const error = await reader.getRun(oldRun).catch((e: unknown) => e);
    expect(isEndureError(error, "key_not_found")).toBe(true);
    expect((error as Error).message).toContain("'2026-a'");
    expect((error as Error).message).toContain(`run '${oldRun}'`);
  });

  it("rotateKeys rewraps every run key, a page at a time, past a page's edge", async () => {
    const path = join(tempDir(), "rotate-pages.db");
    const tiny = workflow("tiny", async (_ctx, n: number) => n);
    const keyed = (keys: Record<string, Buffer | string>, current: string) =>
      aesGcmCodec({ keys, current, runKeys: true });
    const options = (codec: Codec): EngineOptions => ({
      store: sqliteStore(path, { durability: "process" }),
      workflows: [tiny],
      logger: { warn: () => {} },
      gcSchedule: null,
      codec,
    });
    const count = limits.KEY_ROTATION_PAGE + 1;
    const before = await open(options(keyed({ "2026-a": KEY_A }, "2026-a")));
    const runs = await Promise.all(
      Array.from({ length: count }, (_, i) => before.start(tiny, i, { id: `t-${i}` })),
    );
    await Promise.all(runs.map((r) => r.result()));
    await before.close();
    const both = await open(options(keyed({ "2026-a": KEY_A, "2026-b": KEY_B }, "2026-b")));
    expect(await both.rotateKeys()).toEqual({ keys: count, rewrapped: count, skipped: 0 });
    expect(await both.rotateKeys()).toEqual({ keys: count, rewrapped: 0, skipped: 0 });
    await both.close();
    const newOnly = await open({
      ...options(keyed({ "2026-b": KEY_B }, "2026-b")),
      worker: false,
    });
    expect(await newOnly.handle(`t-${count - 1}`).result()).toBe(count - 1);
    expect(await newOnly.handle("t-0").result()).toBe(0);
    await expect(open(options(ringA)).then((e) => e.rotateKeys())).rejects.toThrow(
      "rotating keys needs aesGcmCodec({ runKeys: true })",
    );
  });

  it("refuses to read sealed payloads without a codec or with a wrong key under the same id", async () => {
    const path = join(tempDir(), "keys.db");
    const writer = await open(sqliteOptions(path, ringA));
    const run = await writer.start(broken, { why: "x" }, { id: "b-1" });
    await expect(run.result()).rejects.toThrow();
    await writer.close();

    const plain = await open({ ...sqliteOptions(path, undefined), worker: false });
    const noCodec = await plain.getRun("b-1").catch((e: unknown) => e);
    expect(isEndureError(noCodec, "key_not_found")).toBe(true);
    expect((noCodec as Error).message).toContain("'2026-a'");
    await plain.close();

    const impostor = aesGcmCodec({ keys: { "2026-a": Buffer.alloc(32, 9) }, current: "2026-a" });
    const wrong = await open({ ...sqliteOptions(path, impostor), worker: false });
    const wrongKey = await wrong.journal("b-1").catch((e: unknown) => e);
    expect(isEndureError(wrongKey, "key_not_found")).toBe(true);
    expect((wrongKey as Error).message).toMatch(/'2026-a'.*different key/);
  });

  it("reports an altered ciphertext as tampered, naming the entry, and pauses its run", async () => {
    const path = join(tempDir(), "tamper.db");
    const engine = await open(sqliteOptions(path, ringA));
    const run = await engine.start(vault, { ssn: "x" }, { id: "vault-t" });
    await waitingFor(engine, run.id, "signal 'go'");
    await engine.close();
    // Flip one character of the sealed result of step 'lookup', in place.
    const db = new Database(path);
    const rows = db
      .prepare("SELECT rowid AS rowid, data, type FROM journal WHERE run_id = ? ORDER BY rowid")
      .all(run.id) as Array<{ rowid: number; data: string | null; type: string }>;
    const target = rows.find((r) => r.type === "step_succeeded");
    expect(target?.data).toContain('"key":"2026-a"');
    const data = target?.data ?? "";
    const at = data.length - 10;
    const flipped = data.slice(0, at) + (data[at] === "A" ? "B" : "A") + data.slice(at + 1);
    db.prepare("UPDATE journal SET data = ? WHERE rowid = ?").run(flipped, target?.rowid);
    db.close();

    const again = await open(sqliteOptions(path, ringA));
    const error = await again.journal(run.id).catch((e: unknown) => e);
    expect(isEndureError(error, "payload_tampered")).toBe(true);
    expect((error as Error).message).toMatch(/journal entry \d+ \(step_succeeded 'lookup#1'\)/);
    // The worker that claims the run cannot replay it: the run pauses, the rest goes on.
    const other = await again.start(broken, { why: "still works" }, { id: "b-t" });
    await expect(other.result()).rejects.toThrow("still works");
    await again.signal(run.id, "go", { note: "n" });
    await eventually(async () => (await again.getRun(run.id))?.status === "paused");
  });
});

describe("encryption at rest on PostgreSQL", () => {
  it("leaves no plaintext of a payload in any table, and rotation keeps old runs readable", async () => {
    const url = await freshDatabase();
    const options = (codec: Codec): EngineOptions => ({
      store: postgresStore(url),
      workflows: [vault, broken],
      logger: { warn: () => {} },
      gcSchedule: null,
      codec,
    });
    const engine = await open(options(ringA));
    const runId = await workload(engine);
    await engine.close();

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    onCleanup(() => client.end());
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
    );
    expect(tables.rows.map((t) => t.name)).toEqual(
      expect.arrayContaining(["runs", "journal", "events", "waits", "signals"]),
    );
    let dump = "";
    for (const t of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      dump += rows.rows.map((r) => r.row).join("\n");
    }
    expect(dump).toMatch(/\$endure"+:"+sealed/);
    expect(dump).not.toContain(SECRET);

    const textColumns = await client.query<{ table: string; column: string; schema: string }>(
      `SELECT table_schema AS schema, table_name AS table, column_name AS column
       FROM information_schema.columns
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
         AND data_type IN ('text', 'json', 'jsonb', 'character varying', 'bytea')`,
    );
    const columns = new Map<string, (string | null)[]>();
    for (const c of textColumns.rows) {
      const values = await client.query<{ v: string | null }>(
        `SELECT "${c.column}"::text AS v FROM "${c.schema}"."${c.table}"`,
      );
      columns.set(
        `${c.table}.${c.column}`,
        values.rows.map((r) => r.v),
      );
    }
    expect(columns.size).toBeGreaterThan(20);
    checkColumns(columns);

    const rotated = await open(options(ringAB));
    expect(await rotated.handle(runId).result()).toMatchObject({ late: `${SECRET}-event-late` });
    const fresh = await rotated.start(broken, { why: "rotated" }, { id: "broken-pg" });
    await expect(fresh.result()).rejects.toThrow("rotated");
  });
});
