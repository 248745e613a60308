// The Store contract's part for output streams: each run has an append-only stream of parts,
// addressed by offset, which readers page through and re-attach to at any offset.
import type { NewChunk } from "../core/stream.js";

export type { NewChunk };

/** A part of a run's output stream as the store returns it. */
export interface StoredChunk {
  /** Position in the run's stream: 0, 1, 2, ... with no gaps, in the order parts were written. */
  readonly offset: number;
  /** When it was emitted, epoch milliseconds. */
  readonly at: number;
  /** The encoded part. */
  readonly data: string;
}

/**
 * What a store does for output streams. Parts arrive with a run's fenced writes
 * (`RunWrite.chunks`): a fenced write drops its parts too, and a part whose `key` the run's
 * stream already holds is skipped without taking an offset.
 */
export interface OutputStreamStore {
  /** Up to `limit` parts of the run's stream from `fromOffset` on, in order; [] past the end. */
  readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]>;
}
