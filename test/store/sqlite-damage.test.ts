// Proves a damaged SQLite store is refused when it opens: a page of garbage written into the
// middle of a real endure file (after its WAL was checkpointed) fails open with store_corrupt
// naming what SQLite's quick check found, writes nothing into it, and `checkOnOpen: "none"`
// is the documented way to skip the check.
import Database from "better-sqlite3";
import { openSync, readFileSync, writeSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow, createEngine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { tempDir } from "../helpers.js";

async function filledStore(path: string): Promise<void> {
  const wf = workflow("fill", async (ctx, n: number) =>
    ctx.step("pad", () => `${n}:${"x".repeat(2_000)}`),
  );
  const engine = await createEngine({
    store: sqliteStore(path, { durability: "process" }),
    workflows: [wf],
    logger: { warn: () => {} },
    gcSchedule: null,
  });
  const runs = await Promise.all(Array.from({ length: 200 }, (_, n) => engine.start(wf, n)));
  await Promise.all(runs.map((r) => r.result()));
  await engine.close();
  const db = new Database(path);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

function garblePage(path: string, page: number): void {
  const pageSize = 4096;
  const fd = openSync(path, "r+");
  const garbage = Buffer.alloc(pageSize);
  for (let i = 0; i < pageSize; i++) garbage[i] = (i * 7919 + 13) % 251;
  writeSync(fd, garbage, 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
}

describe("a damaged SQLite store", () => {
  it("is refused at open with store_corrupt, and nothing is written into it", async () => {
    const path = join(tempDir(), "damaged.db");
    await filledStore(path);
    const pages = statSync(path).size / 4096;
    expect(pages).toBeGreaterThan(50);
    garblePage(path, Math.floor(pages / 2));
    const before = readFileSync(path);
    const store = sqliteStore(path);
    let error: (Error & { code?: string }) | null = null;
    try {
      await store.open();
    } catch (e) {
      error = e as Error & { code?: string };
    }
    await store.close();
    expect(error?.code).toBe("store_corrupt");
    expect(error?.message).toMatch(/quick check found: .+; restore it from a backup/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("opens without the check when checkOnOpen is none", async () => {
    const path = join(tempDir(), "unchecked.db");
    await filledStore(path);
    const store = sqliteStore(path, { checkOnOpen: "none" });
    await store.open();
    await store.close();
    expect(() => sqliteStore(path, { checkOnOpen: "full" as "none" })).toThrow(/checkOnOpen/);
  });
});
