// Proves the SQLite store recognizes files it must not touch (not SQLite, another
// application's database, a newer endure schema, a read-only file) with typed errors, and
// changes nothing in them; and that a run whose owner process died is taken over at once.
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import { SCHEMA_VERSION } from "../../src/store/sqlite/schema.js";
import { tempDir } from "../helpers.js";

/**
 * The URL of the built SQLite store for a child process. As root the child runs as nobody,
 * who may not enter the repository's directory (a clone under /root): it gets a copy of
 * what the store needs in a temporary directory instead.
 */
function storeModule(asRoot: boolean): string {
  const built = new URL("../../dist/", import.meta.url).pathname;
  if (!asRoot) return new URL("store/sqlite/index.js", `file://${built}`).href;
  const root = tempDir();
  chmodSync(root, 0o755);
  cpSync(built, join(root, "dist"), { recursive: true });
  const modules = new URL("../../node_modules/", import.meta.url).pathname;
  for (const m of ["bindings", "file-uri-to-path"]) {
    cpSync(join(modules, m), join(root, "node_modules", m), { recursive: true });
  }
  const sqlite = join(modules, "better-sqlite3");
  for (const part of ["package.json", "lib", "build/Release/better_sqlite3.node"]) {
    cpSync(join(sqlite, part), join(root, "node_modules", "better-sqlite3", part), {
      recursive: true,
    });
  }
  return new URL("dist/store/sqlite/index.js", `file://${root}/`).href;
}

async function openError(path: string): Promise<Error & { code?: string }> {
  const store = sqliteStore(path);
  try {
    await store.open();
  } catch (e) {
    return e as Error & { code?: string };
  }
  await store.close();
  throw new Error("expected open to fail");
}

describe("SQLite store files", () => {
  it("refuses a file that is not a SQLite database and leaves it as it was", async () => {
    const path = join(tempDir(), "notes.txt");
    writeFileSync(path, "these are my notes, not a database\n".repeat(100));
    const error = await openError(path);
    expect(error.code).toBe("store_not_endure");
    expect(error.message).toContain("is not a SQLite database");
    expect(readFileSync(path, "utf8")).toBe("these are my notes, not a database\n".repeat(100));
  });

  it("refuses another application's SQLite database and keeps its data", async () => {
    const path = join(tempDir(), "app.db");
    const db = new Database(path);
    db.exec("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('ada')");
    db.close();
    const error = await openError(path);
    expect(error.code).toBe("store_not_endure");
    expect(error.message).toContain("a SQLite database of another application");
    const check = new Database(path);
    expect(check.prepare("SELECT name FROM customers").all()).toEqual([{ name: "ada" }]);
    expect(check.pragma("user_version", { simple: true })).toBe(0);
    check.close();
  });

  it("refuses a store written by a newer endure, changing nothing", async () => {
    const path = join(tempDir(), "newer.db");
    const store = sqliteStore(path);
    await store.open();
    await store.close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const error = await openError(path);
    expect(error.code).toBe("store_too_new");
    expect(error.message).toContain(
      `has schema version ${SCHEMA_VERSION + 1}, newer than the ${SCHEMA_VERSION}`,
    );
    const after = new Database(path);
    expect(after.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION + 1);
    after.close();
  });

  it("reopens its own file and applies no migration twice", async () => {
    const path = join(tempDir(), "twice.db");
    for (let i = 0; i < 2; i++) {
      const store = sqliteStore(path);
      await store.open();
      await store.close();
    }
    const db = new Database(path);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("reports a read-only store with what to do", () => {
    // Root ignores file modes, so the check runs as an unprivileged user when we are root.
    const dir = join(tempDir(), "ro");
    mkdirSync(dir);
    chmodSync(join(dir, ".."), 0o755);
    const path = join(dir, "ro.db");
    const asRoot = process.getuid?.() === 0;
    const script = `
      const { sqliteStore } = await import(${JSON.stringify(storeModule(asRoot))});
      const store = sqliteStore(process.argv[1]);
      try { await store.open(); console.log("opened"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    `;
    const make = new Database(path);
    make.close();
    spawnSync(process.execPath, ["--input-type=module", "-e", script, path], { encoding: "utf8" });
    if (!asRoot) {
      chmodSync(path, 0o444);
      chmodSync(dir, 0o555);
    }
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script, path], {
      encoding: "utf8",
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    if (!asRoot) chmodSync(dir, 0o755);
    expect(result.stderr).toBe("");
    const outcome = JSON.parse(result.stdout) as { code: string; message: string };
    expect(outcome.code).toBe("store_read_only");
    expect(outcome.message).toContain("make the file and its directory writable by this process");
  });

  it("takes over at once a run whose owner process is gone", async () => {
    const path = join(tempDir(), "orphan.db");
    const store = sqliteStore(path);
    await store.open();
    await store.commit({
      creates: [
        {
          id: "orphan",
          workflow: "wf",
          version: null,
          input: "null",
          started: { type: "run_started", at: 0, position: null, key: null, data: null },
          claim: { workerId: "ghost", leaseMs: 3_600_000 },
          priority: 0,
          concurrencyKey: null,
          deadlineAt: null,
        },
      ],
      writes: [],
      now: 1_000,
    });
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    const db = new Database(path);
    db.prepare("UPDATE runs SET owner_pid = ? WHERE id = 'orphan'").run(Number(dead.stdout));
    db.close();
    const request = {
      workerId: "alive",
      workflows: ["wf"],
      limit: 5,
      leaseMs: 30_000,
      now: 2_000,
      recovering: false,
      concurrency: {},
    };
    // A claim that does not sweep (a worker woken again within its poll interval) leaves it.
    expect(await store.claim({ ...request, sweep: false })).toEqual([]);
    const claimed = await store.claim(request);
    expect(claimed.map((c) => [c.run.id, c.takeover])).toEqual([["orphan", true]]);
    await store.close();
  });
});
