// `endure check` is a deploy gate run against production stores: it must change nothing in
// them. Proves it on real SQLite files and a real PostgreSQL server: the store opened for
// reading only refuses a write, the gate leaves a SQLite file byte for byte as it was, and a
// store whose schema is behind this code is refused with store_outdated (exit 6) instead of
// being migrated.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createEngine, workflow, type Store } from "endure";
import { postgresStore } from "endure/postgres";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const NEW_CODE = new URL("../fixtures/evolve-workflows.mjs", import.meta.url).pathname;

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
}

/** The workflow the new code (`evolve-workflows.mjs`) registers unchanged as "gate". */
const gate = workflow("gate", async (ctx) => {
  await ctx.step("prepare", () => 1);
  await ctx.waitForEvent("go", { event: "gate.go", timeout: "1d" });
  return "done";
});

/** Two runs of "gate" in flight in `store`, left waiting, the engine closed. */
async function runsInFlight(store: Store): Promise<void> {
  const engine = await createEngine({
    store,
    workflows: [gate],
    logger: { warn: () => {} },
    gcSchedule: null,
  });
  for (const id of ["gate-1", "gate-2"]) {
    const run = await engine.start(gate, undefined, { id });
    await eventually(async () => (await run.info()).status === "waiting");
  }
  await engine.close();
}

/** Every file of a directory with the hash of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort())
    files[name] = createHash("sha256")
      .update(readFileSync(join(dir, name)))
      .digest("hex");
  return files;
}

describe("endure check changes nothing in the store it checks", () => {
  it("SQLite: the file is unchanged, writes are refused, an outdated file is not migrated", async () => {
    const path = join(tempDir(), "endure.db");
    await runsInFlight(sqliteStore(path));
    const before = snapshot(dirname(path));

    const checked = cli(["check", "--workflows", NEW_CODE, "--store", path, "--json"]);
    expect(checked.status, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).summary).toMatchObject({ total: 2, compatible: 2 });
    // A read-only connection to a WAL file leaves an empty log and a shared-memory index
    // beside it (SQLite needs them to read); the database's bytes are as they were.
    const after = snapshot(dirname(path));
    expect(after["endure.db"]).toBe(before["endure.db"]);
    expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);

    const reader = sqliteStore(path, { readOnly: true });
    await reader.open();
    await expect(reader.setCursor("probe", 1)).rejects.toThrow(/read ?only/i);
    await reader.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM cursors").get()).toEqual({ n: 0 });
    const version = db.pragma("user_version", { simple: true }) as number;
    db.close();

    // A file one migration behind this code: refused, and left one migration behind.
    const old = new Database(path);
    old.pragma(`user_version = ${version - 1}`);
    old.close();
    const outdated = cli(["check", "--workflows", NEW_CODE, "--store", path]);
    expect(outdated.status).toBe(6);
    expect(outdated.stderr).toContain("store_outdated");
    expect(outdated.stderr).toContain("endure migrate");
    const left = new Database(path, { readonly: true });
    expect(left.pragma("user_version", { simple: true })).toBe(version - 1);
    left.close();
  });

  it("PostgreSQL: connections are read-only, writes are refused, an outdated schema is not migrated", async () => {
    const url = await freshDatabase();
    await runsInFlight(postgresStore(url));

    const checked = cli(["check", "--workflows", NEW_CODE, "--store", url, "--json"]);
    expect(checked.status, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).summary).toMatchObject({ total: 2, compatible: 2 });

    const reader = postgresStore(url, { readOnly: true });
    await reader.open();
    onCleanup(() => reader.close());
    await expect(reader.setCursor("probe", 1)).rejects.toThrow(/read-only transaction/);
    expect(await reader.cursor("probe")).toBeNull();
    expect(() => postgresStore(new pg.Pool({ connectionString: url }), { readOnly: true })).toThrow(
      "postgresStore readOnly needs a connection URL, not a pool",
    );

    // The newest migration marked as not applied: the gate refuses, and marks nothing.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    onCleanup(() => admin.end());
    const top = await admin.query<{ v: number }>("SELECT max(version) AS v FROM endure.migrations");
    const newest = Number(top.rows[0]?.v);
    await admin.query("DELETE FROM endure.migrations WHERE version = $1", [newest]);
    const outdated = cli(["check", "--workflows", NEW_CODE, "--store", url]);
    expect(outdated.status).toBe(6);
    expect(outdated.stderr).toContain("store_outdated");
    const still = await admin.query<{ v: number }>(
      "SELECT max(version) AS v FROM endure.migrations",
    );
    expect(Number(still.rows[0]?.v)).toBe(newest - 1);
  });
});
