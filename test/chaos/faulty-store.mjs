// Store wrappers for the chaos harness. `withFaults` makes a store fail some operations
// before they reach the database (the database is busy or unreachable: nothing happened),
// at a seeded rate; endure must ride these out. `broken` makes a store lie, the way a buggy
// store would, so that a test can show the harness catches it:
//
//   drop-commit  reports a write with a step result as committed but never writes it
//   replay-step  hides the last step result from journals it reads back, so a recovered run
//                runs a committed step again
import { StoreUnavailableError } from "endure";

/** Operations a fault may hit, all of which endure must retry or recover from. */
const FAULTY = new Set([
  "commit",
  "claim",
  "heartbeat",
  "readJournal",
  "transaction",
  "inbox",
  "getWait",
  "closeWait",
  "nextWakeAt",
]);

/** A seeded pseudo-random generator in [0, 1) (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `store` failing each faulty operation with probability `rate`; `onFault(op)` is told. */
export function withFaults(store, { rate, seed, onFault }) {
  const random = rng(seed);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (!FAULTY.has(prop) || rate <= 0) return value.bind(target);
      return async (...args) => {
        if (random() < rate) {
          onFault(prop);
          throw new StoreUnavailableError(`chaos: injected fault in ${String(prop)}`);
        }
        return value.apply(target, args);
      };
    },
  });
}

/** `store` broken as `mode` says (see the top of this file). */
export function broken(store, mode, onLie) {
  const hideLastResult = (journal) => {
    const last = journal.findLastIndex((e) => e.type === "step_succeeded");
    if (last < 0 || journal.some((e) => e.type === "run_completed")) return journal;
    onLie("replay-step");
    return journal.filter((_, i) => i !== last);
  };
  let writes = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (mode === "replay-step" && prop === "readJournal")
        return async (runId) => hideLastResult(await target.readJournal(runId));
      if (mode === "replay-step" && prop === "claim")
        return async (request) =>
          (await target.claim(request)).map((c) =>
            c.journal === undefined ? c : { ...c, journal: hideLastResult(c.journal) },
          );
      if (mode === "drop-commit" && prop === "commit")
        return async (batch) => {
          const dropped = [];
          const kept = batch.writes.filter((w) => {
            const drop =
              w.update === null &&
              w.entries.some((e) => e.type === "step_succeeded") &&
              ++writes % 3 === 0;
            if (drop) dropped.push(w);
            return !drop;
          });
          if (dropped.length === 0) return target.commit(batch);
          onLie("drop-commit");
          const result = await target.commit({ ...batch, writes: kept });
          let k = 0;
          return {
            creates: result.creates,
            writes: batch.writes.map((w) =>
              dropped.includes(w) ? { kind: "committed" } : result.writes[k++],
            ),
          };
        };
      return value.bind(target);
    },
  });
}
