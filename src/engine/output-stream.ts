// Reading a run's output stream: pages by offset, and a follower that yields every part once,
// in order, from any offset, until the run has ended and nothing is left to read.
import type { StreamPart } from "../core/stream.js";
import { decodeValue } from "../core/serialize.js";
import { RESULT_POLL_MS_MAX, STREAM_READ_LIMIT_DEFAULT } from "../core/limits.js";
import type { StoredChunk } from "../store/stream.js";

/** One part of a run's output stream, as readers see it. */
export interface StreamChunk<P extends StreamPart = StreamPart> {
  /** Its place in the stream, from 0. Re-attach with `{ from: offset + 1 }`. */
  readonly offset: number;
  readonly at: Date;
  readonly part: P;
}

/** Options of `handle.stream()`. */
export interface StreamOptions {
  /** First offset to read (default 0): the offset after the last part a reader has. */
  from?: number;
  /** Stops the reader (the iteration ends quietly). */
  signal?: AbortSignal;
}

/** What a follower needs from the engine. */
export interface StreamSource {
  read(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]>;
  /** True once the run has ended (no part can be added). Throws if the run does not exist. */
  ended(runId: string): Promise<boolean>;
  /** Resolves when new parts may have been written, or after `ms`. */
  changed(runId: string, ms: number, signal?: AbortSignal): Promise<void>;
}

/** Decodes a stored part. */
export function toStreamChunk(stored: StoredChunk): StreamChunk {
  return {
    offset: stored.offset,
    at: new Date(stored.at),
    part: decodeValue(stored.data) as StreamPart,
  };
}

/**
 * Follows a run's stream from `options.from`: yields each part once, in offset order, waits
 * for more while the run goes on, and ends once the run has ended and its last part was read.
 */
export async function* followStream(
  source: StreamSource,
  runId: string,
  options: StreamOptions = {},
): AsyncGenerator<StreamChunk, void, undefined> {
  let next = options.from ?? 0;
  let delayMs = 10;
  const signal = options.signal;
  const aborted = (): boolean => signal?.aborted === true;
  while (!aborted()) {
    // Read the status before the page: parts commit with (or before) a run's end, so an
    // empty page read after seeing the end means there is nothing left.
    const ended = await source.ended(runId);
    const page = await source.read(runId, next, STREAM_READ_LIMIT_DEFAULT);
    for (const stored of page) {
      if (aborted()) return;
      yield toStreamChunk(stored);
      next = stored.offset + 1;
    }
    if (page.length > 0) {
      delayMs = 10;
      continue;
    }
    if (ended) return;
    await source.changed(runId, delayMs, signal);
    delayMs = Math.min(delayMs * 2, RESULT_POLL_MS_MAX);
  }
}

/** Readers of runs' streams waiting for parts: woken when this engine commits parts of the
 * run (or the run leaves it), else after their poll interval. */
export class StreamWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves on the run's next notification, after `ms`, or when `signal` aborts. */
  wait(runId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(runId);
      if (set === undefined) this.waiters.set(runId, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(runId) === waiters) this.waiters.delete(runId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done);
      waiters.add(done);
    });
  }

  notify(runId: string): void {
    const waiters = this.waiters.get(runId);
    if (waiters !== undefined) for (const w of [...waiters]) w();
  }
}
