// Erasure: shredding a run deletes its data key, so that the payloads sealed under it can no
// longer be read by anyone, while its rows (the journal's structure, its hashes) stay.
import { InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import type { Store } from "../store/store.js";

/** What `engine.shred` did. */
export interface ShredReport {
  readonly runId: string;
  /** When the run's data key was deleted. */
  readonly shreddedAt: Date;
  /** True when it had been shredded before (nothing changed). */
  readonly already: boolean;
}

/** Deletes an ended run's data key; typed errors say why a run cannot be shredded. */
export async function shredRun(store: Store, runId: string, now: number): Promise<ShredReport> {
  const keys = store.runKeys;
  if (keys === undefined) {
    throw new InvalidArgumentError(
      `${store.description} keeps no run keys, so no run of it can be shredded`,
    );
  }
  const result = await keys.shred(runId, now);
  switch (result.kind) {
    case "shredded":
    case "already":
      return {
        runId,
        shreddedAt: new Date(result.shreddedAt),
        already: result.kind === "already",
      };
    case "not_found":
      throw new RunNotFoundError(`cannot shred: no run has the id '${runId}'`);
    case "not_ended":
      throw new InvalidArgumentError(
        `cannot shred run '${runId}': it is ${result.status}, and only an ended run can be ` +
          "shredded; cancel it first (engine.cancel or `endure runs cancel`), then shred it",
      );
    case "no_key":
      throw new InvalidArgumentError(
        `cannot shred run '${runId}': it has no data key of its own (it was started by an ` +
          "engine without aesGcmCodec({ runKeys: true })); only runs started with run keys " +
          "can be shredded, other runs are deleted by retention",
      );
  }
}
