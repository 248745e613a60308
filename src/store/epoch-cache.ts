// A number per run that holds while the run's lease (its epoch) does, such as the last
// journal sequence number or the next output-stream offset of a run this process writes:
// while the epoch holds no one else appends to the run, so the next number needs no lookup.

/** Runs an {@link EpochCache} holds: 100,000. It only holds runs this process writes, and is
 * emptied when a new run would take it past this (the next commit of each looks it up). */
export const EPOCH_CACHE_RUNS_MAX = 100_000;

/** A number by run, valid for one epoch of the run. */
export class EpochCache {
  private readonly values = new Map<string, { epoch: number; value: number }>();

  constructor(private readonly capacity: number = EPOCH_CACHE_RUNS_MAX) {}

  /** The run's cached number under `epoch`, or null (none cached, or another epoch's). */
  get(runId: string, epoch: number): number | null {
    const cached = this.values.get(runId);
    return cached?.epoch === epoch ? cached.value : null;
  }

  set(runId: string, epoch: number, value: number): void {
    if (this.values.size >= this.capacity && !this.values.has(runId)) this.values.clear();
    this.values.set(runId, { epoch, value });
  }

  /** Forgets one run, or every run (a transaction rolled back, the store closed). */
  forget(runId?: string): void {
    if (runId === undefined) this.values.clear();
    else this.values.delete(runId);
  }

  /** Runs cached now. */
  get size(): number {
    return this.values.size;
  }
}
