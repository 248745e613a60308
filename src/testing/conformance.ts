// The store conformance suite for stores written outside endure: the same cases endure's
// SQLite and PostgreSQL stores pass, as plain async functions any test runner can register.
import { conformanceCases, type ConformanceCase } from "../store/conformance.js";
import type { Store } from "../store/store.js";

export type { ConformanceCase };

/**
 * Every case a {@link Store} must pass. Each `run(store)` gets a new, opened, empty store and
 * throws (a `node:assert` error) when the store misbehaves. Register them in your runner.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { storeConformanceCases } from "endure/testing";
 *
 * describe("my store", () => {
 *   for (const c of storeConformanceCases) it(c.name, async () => {
 *     const store = await openMyStore();            // a fresh database, opened
 *     try { await c.run(store); } finally { await store.close(); }
 *   });
 * });
 * ```
 */
export const storeConformanceCases: readonly ConformanceCase[] = conformanceCases;

/** What {@link runStoreConformance} found. */
export interface ConformanceReport {
  readonly passed: readonly string[];
  readonly failed: readonly { readonly name: string; readonly error: Error }[];
}

/**
 * Runs every conformance case in order, each on a new store from `openStore` (opened; closed
 * here afterwards), and reports which passed. For runners without a loop of `it` calls, or a
 * quick check from a script.
 *
 * @example
 * ```ts
 * const report = await runStoreConformance(async () => {
 *   const store = myStore(await freshDatabaseUrl());
 *   await store.open();
 *   return store;
 * });
 * assert.deepEqual(report.failed, []);
 * ```
 */
export async function runStoreConformance(
  openStore: () => Promise<Store>,
): Promise<ConformanceReport> {
  const passed: string[] = [];
  const failed: Array<{ name: string; error: Error }> = [];
  for (const c of storeConformanceCases) {
    const store = await openStore();
    try {
      await c.run(store);
      passed.push(c.name);
    } catch (e) {
      failed.push({ name: c.name, error: e instanceof Error ? e : new Error(String(e)) });
    } finally {
      await store.close();
    }
  }
  return { passed, failed };
}
