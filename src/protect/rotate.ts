// Key rotation for runs with data keys of their own (`aesGcmCodec({ runKeys: true })`): each
// run's data key is wrapped again under the ring's current key, so that an old ring key can
// be retired. The payloads themselves are not rewritten: they are sealed under the run's data
// key, which does not change, and the journal's hashes (which cover the sealed bytes) stay.
import { InvalidArgumentError } from "../core/errors.js";
import { KEY_ROTATION_PAGE } from "../core/limits.js";
import type { Store } from "../store/store.js";
import { runKeyCodecOf, type Codec } from "./codec.js";

/** What `engine.rotateKeys` did. */
export interface RotationReport {
  /** Run data keys looked at (shredded ones are not). */
  readonly keys: number;
  /** Keys wrapped again under the current ring key. */
  readonly rewrapped: number;
  /** Keys a concurrent change (a shred, another rotation) took first: left as they are. */
  readonly skipped: number;
}

/**
 * Wraps every run's data key under the codec's current key, a page of
 * {@link KEY_ROTATION_PAGE} keys at a time, while workers go on: each rewrap replaces the key
 * only if it is still the one read (compare and swap), and the key's bytes do not change, so
 * engines holding it in memory are not disturbed. Safe to run again (keys under the current
 * key are left alone) and to stop part way.
 */
export async function rotateKeys(store: Store, codec: Codec | undefined): Promise<RotationReport> {
  const runKeyCodec = codec === undefined ? null : runKeyCodecOf(codec);
  if (runKeyCodec === null) {
    throw new InvalidArgumentError(
      "rotating keys needs aesGcmCodec({ runKeys: true }): without run keys, payloads are " +
        "sealed under the ring's keys directly, and stay readable while their key is in the ring",
    );
  }
  const keys = store.runKeys;
  if (keys === undefined)
    throw new InvalidArgumentError(`${store.description} keeps no run keys: nothing to rotate`);
  let after: string | null = null;
  let seen = 0;
  let rewrapped = 0;
  let skipped = 0;
  for (;;) {
    const page = await keys.list(after, KEY_ROTATION_PAGE);
    for (const record of page) {
      if (record.wrapped === null) continue;
      seen++;
      const next = runKeyCodec.rewrapDataKey(record.wrapped);
      if (next === null) continue;
      if (await keys.rewrap(record.runId, record.wrapped, next)) rewrapped++;
      else skipped++;
    }
    if (page.length < KEY_ROTATION_PAGE) break;
    after = page[page.length - 1]?.runId ?? null;
  }
  return { keys: seen, rewrapped, skipped };
}
