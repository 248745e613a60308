// Reading a run's output stream: pages by offset, and a follower that yields every part once,
// in order, from any offset, until the run has ended and nothing is left to read.
import { InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import type { StreamPart } from "../core/stream.js";
import { decodeValue } from "../core/serialize.js";
import {
  RESULT_POLL_MS_MAX,
  STREAM_READ_LIMIT_DEFAULT,
  STREAM_READ_LIMIT_MAX,
} from "../core/limits.js";
import { TERMINAL_STATUSES } from "../core/types.js";
import { checkRunId } from "../core/text.js";
import type { Store } from "../store/store.js";
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

/** Options of `engine.readStream`. */
export interface ReadStreamOptions {
  /** First offset to read (default 0). */
  from?: number;
  /** Most parts to return, default 256, at most 1,000. */
  limit?: number;
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

/** One page of the run's stream; throws when no run has the id. */
export async function readStreamPage(
  store: Store,
  runId: string,
  options: ReadStreamOptions,
): Promise<StreamChunk[]> {
  checkRunId(runId);
  const from = options.from ?? 0;
  const limit = options.limit ?? STREAM_READ_LIMIT_DEFAULT;
  if (!Number.isInteger(from) || from < 0) {
    throw new InvalidArgumentError(
      `readStream from must be a whole number of at least 0, got ${String(from)}`,
    );
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > STREAM_READ_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `readStream limit must be a whole number from 1 to ${STREAM_READ_LIMIT_MAX}, got ${String(limit)}`,
    );
  }
  const stored = await store.readStream(runId, from, limit);
  if (stored.length === 0 && (await store.getRun(runId)) === null) {
    throw new RunNotFoundError(`no run has the id '${runId}'`);
  }
  return stored.map(toStreamChunk);
}

/**
 * Follows the run's stream in `store` (see {@link followStream}), woken by `waiters`; once
 * `closed()`, it reads the store again without waiting. Throws at once on an invalid `from`.
 */
export function followRunStream(
  store: Store,
  waiters: StreamWaiters,
  closed: () => boolean,
  runId: string,
  options: StreamOptions = {},
): AsyncIterable<StreamChunk> {
  const from = options.from ?? 0;
  if (!Number.isInteger(from) || from < 0) {
    throw new InvalidArgumentError(
      `stream from must be a whole number of at least 0, got ${String(from)}`,
    );
  }
  return followStream(
    {
      read: (id, offset, limit) => store.readStream(id, offset, limit),
      ended: async (id) => {
        const run = await store.getRun(id);
        if (run === null) throw new RunNotFoundError(`no run has the id '${id}'`);
        return TERMINAL_STATUSES.has(run.status);
      },
      changed: (id, ms, signal) => waiters.wait(id, closed() ? 0 : ms, signal),
    },
    runId,
    options,
  );
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
