// The last journal sequence number of runs this process writes under a lease: while the
// epoch holds, no one else appends to the run (a claim fences with a row of its own), so the
// next number needs no lookup.
import type { RunWrite } from "../store.js";
import { SEQ_CACHE_RUNS_MAX } from "./settings.js";

/** Last seq by run, valid for one epoch. */
export class SeqCache {
  private readonly seqs = new Map<string, { epoch: number; seq: number }>();

  /** The cached last seq for a write's run under the write's epoch, or null. */
  baseOf(write: RunWrite): number | null {
    const cached = this.seqs.get(write.runId);
    return cached?.epoch === write.epoch ? cached.seq : null;
  }

  /** Same as {@link baseOf} for a run id and epoch. */
  get(runId: string, epoch: number): number | null {
    const cached = this.seqs.get(runId);
    return cached?.epoch === epoch ? cached.seq : null;
  }

  remember(runId: string, epoch: number, seq: number): void {
    if (this.seqs.size >= SEQ_CACHE_RUNS_MAX && !this.seqs.has(runId)) this.seqs.clear();
    this.seqs.set(runId, { epoch, seq });
  }

  forget(runId: string): void {
    this.seqs.delete(runId);
  }

  clear(): void {
    this.seqs.clear();
  }
}
