// The shape of a conformance case, and the fixtures the case files share: a fixed clock
// origin, leases, run creations and claims.
import type { NewEntry } from "../core/journal.js";
import type { ClaimRequest, RunCreate, Store } from "./store.js";

/** One conformance case: `run` gets a fresh, opened store and throws on failure. */
export interface ConformanceCase {
  readonly name: string;
  run(store: Store): Promise<void>;
}

/** The cases' clock origin, epoch milliseconds. */
export const T0 = 1_700_000_000_000;
/** A lease no case waits out. */
export const LEASE = 30_000;
/**
 * A lease short enough to wait out. Stores measure leases on their own clock: SQLite on the
 * engine's (the `now` passed in), PostgreSQL on the database's. Cases that let a lease lapse
 * therefore both wait in real time and move `now` past it.
 */
export const SHORT = 300;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a lease of {@link SHORT} ms taken now has lapsed on any clock. */
export const lapse = () => sleep(SHORT + 100);

export function entry(
  type: NewEntry["type"],
  at = T0,
  position: number | null = null,
  key: string | null = null,
  data: string | null = null,
): NewEntry {
  return { type, at, position, key, data };
}

/** A run of `workflow`, created pending or, with `claim`, running under that lease. */
export function create(
  id: string,
  workflow = "wf",
  claim: RunCreate["claim"] = null,
  more: Partial<RunCreate> = {},
): RunCreate {
  return {
    id,
    workflow,
    version: null,
    input: '{"n":1}',
    started: entry("run_started", T0, null, null, '{"workflow":"wf"}'),
    claim,
    deadlineAt: null,
    priority: 0,
    concurrencyKey: null,
    ...more,
  };
}

export async function createRuns(store: Store, ...creates: RunCreate[]) {
  const result = await store.commit({ creates, writes: [], now: T0 });
  return result.creates;
}

/** Claims up to 10 runs of `wf` for `workerId`. */
export async function claimOne(
  store: Store,
  workerId: string,
  now = T0,
  recovering = false,
  more: Partial<ClaimRequest> = {},
) {
  return store.claim({
    workerId,
    workflows: ["wf"],
    limit: 10,
    leaseMs: LEASE,
    now,
    recovering,
    concurrency: {},
    ...more,
  });
}
