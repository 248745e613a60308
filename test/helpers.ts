// Shared test helpers: temporary directories and engines on real SQLite files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createEngine, type Engine, type EngineOptions } from "endure";
import { sqliteStore } from "endure/sqlite";

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A fresh directory removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "endure-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Registers work to do after the test. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** An engine on a new SQLite file (or `path`), closed after the test. */
export async function sqliteEngine(
  options: Omit<EngineOptions, "store"> & { path?: string; durability?: "fsync" | "process" } = {},
): Promise<Engine> {
  const path = options.path ?? join(tempDir(), "endure.db");
  const { path: _p, durability, ...rest } = options;
  const engine = await createEngine({
    store: sqliteStore(path, { durability: durability ?? "process" }),
    logger: { warn: () => {} },
    // Retention runs on demand only unless a test asks: tests move virtual clocks by weeks.
    gcSchedule: null,
    ...rest,
  });
  cleanups.push(() => engine.close());
  return engine;
}

/** Waits until `check` returns a truthy value, polling every 5 ms, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  ms = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
