// Large payloads by reference: a step result or a run output whose stored data is over a
// threshold is written once to a blob store, under the SHA-256 of its bytes, and the store
// keeps a small reference in its place. Readers get the data back as it was written; the
// journal stays small, and equal values are stored once.
//
// The wrapper sits under the hash chain and the codec: what goes to the blob store is the
// entry's data as the store would have kept it (sealed, with its chain hash), so blobs hold no
// plaintext with a codec, and verifying a chain reads through the blobs.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  BlobMissingError,
  InvalidArgumentError,
  isEndureError,
  PayloadTamperedError,
} from "../core/errors.js";
import type { ClaimedRun, ClaimRequest, CommitBatch, RunWrite, Store } from "../store/store.js";

/**
 * Where large payloads go: content-addressed bytes. Implement it for an S3-compatible bucket
 * (`put` as a PutObject under the key `hash`, `get` as a GetObject, null on NoSuchKey);
 * {@link directoryBlobStore} keeps them in a directory.
 */
export interface BlobStore {
  /** Stores `bytes` under `hash` (their SHA-256, hex), durably, before it resolves. Storing
   * a hash that is there already may do nothing. */
  put(hash: string, bytes: Buffer): Promise<void>;
  /** The bytes stored under `hash`, or null when there are none. */
  get(hash: string): Promise<Buffer | null>;
  /** Where the blobs are, for messages. */
  readonly description: string;
}

/**
 * Blobs as files of a directory (`<dir>/<first 2 hex digits>/<hash>`), each written to a
 * temporary file, synced and renamed into place, so that a crash never leaves half a blob
 * under its name. The directory is made when the first blob is written.
 */
export function directoryBlobStore(dir: string): BlobStore {
  if (typeof dir !== "string" || dir === "")
    throw new InvalidArgumentError("directoryBlobStore needs a directory path");
  const pathOf = (hash: string): string => join(dir, hash.slice(0, 2), hash);
  return {
    description: `the blob directory ${dir}`,
    async put(hash, bytes) {
      const path = pathOf(hash);
      try {
        await (await open(path, "r")).close();
        return; // stored once: the same bytes are there
      } catch {
        // not there yet
      }
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      const file = await open(temp, "w");
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path).catch(async (e: unknown) => {
        await rm(temp, { force: true });
        throw e;
      });
      const parent = await open(dirname(path), "r");
      try {
        await parent.sync();
      } finally {
        await parent.close();
      }
    },
    async get(hash) {
      try {
        return await readFile(pathOf(hash));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },
  };
}

/** The blob store beside a SQLite file: the directory `<file>.blobs`. */
export function blobDirectoryOf(sqlitePath: string): string {
  return `${sqlitePath}.blobs`;
}

/** The blob store of the engine's `blobs` option, or null without one. */
export function blobStoreOf(option: BlobStore | true | undefined, store: Store): BlobStore | null {
  if (option === undefined) return null;
  if (option !== true) {
    if (typeof option !== "object" || option === null || typeof option.put !== "function")
      throw new InvalidArgumentError(
        "blobs must be true or a BlobStore ({ put, get, description }), such as directoryBlobStore(dir)",
      );
    return option;
  }
  const path = (store as { path?: unknown }).path;
  if (store.dialect !== "sqlite" || typeof path !== "string" || path === ":memory:") {
    throw new InvalidArgumentError(
      "blobs: true keeps blobs in a directory beside the SQLite file, and this store has none " +
        `(${store.description}); give a blob store: blobs: directoryBlobStore("/path/to/blobs")`,
    );
  }
  return directoryBlobStore(blobDirectoryOf(path));
}

const REF_PREFIX = '{"$endure":"blob","sha256":"';

/** The reference kept in place of `data`. */
function refOf(hash: string, bytes: number): string {
  return `${REF_PREFIX}${hash}","bytes":${bytes}}`;
}

function isRef(text: string | null | undefined): text is string {
  return typeof text === "string" && text.startsWith(REF_PREFIX) && text.length < 200;
}

/** How deep in a store's result entries and runs are (a claim's journal: array, claim, array). */
const RESULT_DEPTH_MAX = 4;

/** Adds each reference in `value` to `refs`, with the run it belongs to. */
function collectRefs(value: unknown, depth: number, refs: Map<string, string>): void {
  if (value === null || typeof value !== "object" || depth > RESULT_DEPTH_MAX) return;
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, depth + 1, refs);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const inner = record[key];
    if ((key === "data" || key === "output") && isRef(inner as string))
      refs.set(inner as string, (record["runId"] ?? record["id"]) as string);
    else if (inner !== null && typeof inner === "object") collectRefs(inner, depth + 1, refs);
  }
}

/** `value` with its references replaced by `texts`, copying only what changes. */
function replaceRefs(value: unknown, depth: number, texts: ReadonlyMap<string, string>): unknown {
  if (value === null || typeof value !== "object" || depth > RESULT_DEPTH_MAX) return value;
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    let out: unknown[] | null = null;
    items.forEach((item, i) => {
      const next = replaceRefs(item, depth + 1, texts);
      if (next !== item) (out ??= [...items])[i] = next;
    });
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key in record) {
    const inner = record[key];
    const next =
      typeof inner === "string"
        ? key === "data" || key === "output"
          ? (texts.get(inner) ?? inner)
          : inner
        : replaceRefs(inner, depth + 1, texts);
    if (next !== inner) (out ??= { ...record })[key] = next;
  }
  return out ?? value;
}

/** `store` keeping step results and run outputs longer than `thresholdBytes` in `blobs`. */
export function blobbedStore(store: Store, blobs: BlobStore, thresholdBytes: number): Store {
  const offload = async (text: string): Promise<string> => {
    // Measured in UTF-16 units first: most values are far below the threshold.
    if (text.length <= thresholdBytes / 3) return text;
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length <= thresholdBytes) return text;
    const hash = createHash("sha256").update(bytes).digest("hex");
    await blobs.put(hash, bytes);
    return refOf(hash, bytes.length);
  };
  const fetch = async (ref: string, runId: string): Promise<string> => {
    const { sha256: hash } = JSON.parse(ref) as { sha256: string };
    const bytes = await blobs.get(hash);
    if (bytes === null) {
      throw new BlobMissingError(
        `run ${runId} refers to the blob ${hash}, which ${blobs.description} does not hold: ` +
          "restore it from a backup of the blob store (blobs are never deleted by endure)",
      );
    }
    if (createHash("sha256").update(bytes).digest("hex") !== hash) {
      throw new PayloadTamperedError(
        `the blob ${hash} of run ${runId} in ${blobs.description} does not have that hash: ` +
          "it was changed or damaged; restore it from a backup",
      );
    }
    return bytes.toString("utf8");
  };
  const writeOf = async (w: RunWrite): Promise<RunWrite> => {
    const entries = await Promise.all(
      w.entries.map(async (e) =>
        e.data === null || e.data.length <= thresholdBytes / 3
          ? e
          : { ...e, data: await offload(e.data) },
      ),
    );
    const update =
      w.update !== null && w.update.status === "completed"
        ? { ...w.update, output: await offload(w.update.output) }
        : w.update;
    return { ...w, entries, update };
  };
  /**
   * A result with every reference in it (the `data` of an entry, the `output` of a run)
   * replaced by its data: one walk finds them; without any, the result itself comes back.
   */
  const resolve = async (value: unknown): Promise<unknown> => {
    const refs = new Map<string, string>();
    collectRefs(value, 0, refs);
    if (refs.size === 0) return value;
    const texts = new Map<string, string>();
    await Promise.all(
      [...refs].map(async ([ref, runId]) => texts.set(ref, await fetch(ref, runId))),
    );
    return replaceRefs(value, 0, texts);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "claim") {
        // A run whose blob cannot be read is handed over without its journal: the worker
        // reads it, meets the error and pauses that run alone.
        return async (request: ClaimRequest) =>
          Promise.all(
            (await target.claim(request)).map(async (claimed) => {
              try {
                return (await resolve(claimed)) as ClaimedRun;
              } catch (e) {
                if (!isEndureError(e, "blob_missing") && !isEndureError(e, "payload_tampered"))
                  throw e;
                const { journal: _unread, ...rest } = claimed;
                return rest;
              }
            }),
          );
      }
      if (prop === "commit") {
        return async (batch: CommitBatch) =>
          target.commit({ ...batch, writes: await Promise.all(batch.writes.map(writeOf)) });
      }
      const member: unknown = Reflect.get(target, prop);
      if (typeof member !== "function") return member;
      const method = member as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const result = method.apply(target, args);
        return result instanceof Promise ? result.then((r: unknown) => resolve(r)) : result;
      };
    },
  });
}
