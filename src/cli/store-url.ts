// The store a command line names: a PostgreSQL URL, or a SQLite file.
import { existsSync } from "node:fs";
import { InvalidArgumentError } from "../core/errors.js";
import { BLOB_THRESHOLD_BYTES_DEFAULT } from "../core/limits.js";
import { blobbedStore, blobDirectoryOf, directoryBlobStore } from "../protect/blobs.js";
import type { Store } from "../store/store.js";
import { postgresStore } from "../store/postgres/index.js";
import { sqliteStore } from "../store/sqlite/index.js";

/** Options of the store a command opens. */
export interface StoreChoice {
  /** PostgreSQL schema (ignored for SQLite). */
  readonly schema?: string;
  /** Apply migrations on open (default true). */
  readonly migrate?: boolean;
  /** Open for reading only: no migration, no write reaches the store (default false). */
  readonly readOnly?: boolean;
}

/**
 * Opens no connection: returns the store for `url`. `postgres://` and `postgresql://` URLs
 * give the PostgreSQL store; `sqlite:<path>` or a path gives a SQLite file, read through its
 * blob directory (`<file>.blobs`) when it has one.
 */
export function storeFromUrl(url: string, choice: StoreChoice = {}): Store {
  if (/^postgres(ql)?:\/\//.test(url)) {
    return postgresStore(url, {
      ...(choice.schema !== undefined ? { schema: choice.schema } : {}),
      ...(choice.migrate !== undefined ? { migrate: choice.migrate } : {}),
      ...(choice.readOnly === true ? { readOnly: true } : {}),
    });
  }
  const path = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  if (path === "" || /^[a-z]+:\/\//i.test(path)) {
    throw new InvalidArgumentError(
      `--store must be a postgres:// URL or a SQLite file path (sqlite:./endure.db), got ${JSON.stringify(url)}`,
    );
  }
  const store = sqliteStore(path, choice.readOnly === true ? { readOnly: true } : {});
  // A store written with `blobs: true` keeps its large payloads beside it: read through them.
  const blobs = blobDirectoryOf(path);
  return existsSync(blobs)
    ? blobbedStore(store, directoryBlobStore(blobs), BLOB_THRESHOLD_BYTES_DEFAULT)
    : store;
}
