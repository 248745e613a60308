// The engine's health for an endpoint: one timed read of the store, and the worker's state.
import { HEALTH_CHECK_MS_MAX } from "../core/limits.js";
import type { Store } from "../store/store.js";
import type { Worker } from "../worker/worker.js";

/**
 * What {@link Engine.health} reports.
 *
 * @example
 * ```ts
 * const { ok, store, runsInMemory } = await engine.health();
 * if (!ok) console.warn(`store: ${store.error ?? "slow"}, ${runsInMemory} runs in memory`);
 * ```
 */
export interface EngineHealth {
  /** The store answered, its write lock is not stuck, the worker's claims are not failing,
   * and the engine is not closing. */
  readonly ok: boolean;
  readonly workerId: string | null;
  readonly runsInMemory: number;
  readonly closing: boolean;
  /** Whether a read of the store worked just now, how long it took, and why not. */
  readonly store: {
    readonly ok: boolean;
    readonly latencyMs: number;
    readonly error: string | null;
  };
  /** Claim rounds that failed in a row (the worker is backing off while this is above 0). */
  readonly storeFailuresInRow: number;
}

/** Checks the store and the worker of an engine; `closed()` is true once the engine closes. */
export async function checkHealth(
  store: Store,
  worker: Worker | null,
  closed: () => boolean,
): Promise<EngineHealth> {
  const started = performance.now();
  let error: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the store did not answer within ${HEALTH_CHECK_MS_MAX} ms`)),
      HEALTH_CHECK_MS_MAX,
    );
  });
  try {
    await Promise.race([store.nextWakeAt(), late]);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
  // Reads answer while a writer is stuck in a transaction: every write waits behind it.
  const heldMs = store.writeLockHeldMs?.() ?? 0;
  if (error === null && heldMs > HEALTH_CHECK_MS_MAX) {
    error =
      `the store's write lock has been held for ${heldMs} ms (more than ${HEALTH_CHECK_MS_MAX} ms): ` +
      "every write waits behind one transaction";
  }
  const state = worker?.state ?? { storeFailuresInRow: 0, closing: false };
  const closing = closed() || state.closing;
  return {
    ok: error === null && state.storeFailuresInRow === 0 && !closing,
    workerId: worker?.settings.workerId ?? null,
    runsInMemory: worker?.runsInMemory ?? 0,
    closing,
    store: { ok: error === null, latencyMs: Math.round(performance.now() - started), error },
    storeFailuresInRow: state.storeFailuresInRow,
  };
}
