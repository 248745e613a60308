// Flow control shared by every store: which claim candidates fit in their concurrency limits,
// and the token bucket behind rate limits.
import type { ClaimRequest } from "./store.js";

/** A run a store could claim. */
export interface ClaimCandidate {
  readonly id: string;
  readonly workflow: string;
  readonly concurrencyKey: string | null;
  /** Taken over from a dead or expired owner: it already holds its place in its limit. */
  readonly takeover: boolean;
}

/** The key under which running runs are counted against their workflow's limit. */
export function slotOf(workflow: string, concurrencyKey: string): string {
  return JSON.stringify([workflow, concurrencyKey]);
}

/**
 * The candidates to claim, in order, at most `request.limit`: a run of a limited workflow
 * only while its key has a free place. A run without a key (started by an engine that did
 * not know the limit) counts under the whole-workflow key `""`, so the limit still holds. `running` counts the runs holding a lease per
 * {@link slotOf} key; it is updated with the places taken.
 */
export function pickWithinLimits<C extends ClaimCandidate>(
  candidates: readonly C[],
  request: ClaimRequest,
  running: Map<string, number>,
): C[] {
  const chosen: C[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (chosen.length >= request.limit) break;
    if (seen.has(c.id)) continue;
    const limit = request.concurrency[c.workflow];
    if (!c.takeover && limit !== undefined) {
      const slot = slotOf(c.workflow, c.concurrencyKey ?? "");
      const n = running.get(slot) ?? 0;
      if (n >= limit) continue;
      running.set(slot, n + 1);
    }
    seen.add(c.id);
    chosen.push(c);
  }
  return chosen;
}

/** The keys whose limit is reached, as `[workflow, key]` pairs. */
export function fullSlots(
  running: ReadonlyMap<string, number>,
  request: ClaimRequest,
): Array<[string, string]> {
  const full: Array<[string, string]> = [];
  for (const [slot, n] of running) {
    const [workflow, key] = JSON.parse(slot) as [string, string];
    if (n >= (request.concurrency[workflow] ?? Infinity)) full.push([workflow, key]);
  }
  return full;
}

/**
 * Reserves `units` of a token bucket (GCRA) holding `periodMs` of debt at most, where a
 * unit costs `periodMs / limit`: returns when the reservation may start and the new state.
 * `tatMs` is when the bucket is full again (null for a new bucket).
 */
export function reserveUnits(
  tatMs: number | null,
  nowMs: number,
  units: number,
  limit: number,
  periodMs: number,
): { grantedAtMs: number; tatMs: number } {
  const cost = (units * periodMs) / limit;
  const tat = tatMs ?? nowMs;
  const grantedAtMs = Math.max(nowMs, tat + cost - periodMs);
  return { grantedAtMs, tatMs: Math.max(tat, nowMs) + cost };
}
