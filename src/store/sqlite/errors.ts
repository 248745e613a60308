// Turns SQLite's error codes into endure's typed store errors, with what to do.
import {
  StoreCorruptError,
  StoreReadOnlyError,
  StoreUnavailableError,
  StoreNotEndureError,
} from "../../core/errors.js";

/** Maps an error thrown by better-sqlite3 while working on `path` to a typed store error. */
export function storeError(error: unknown, path: string, doing: string): Error {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  switch (typeof code === "string" ? code : "") {
    case "SQLITE_NOTADB":
      return new StoreNotEndureError(
        `${path} is not a SQLite database (${message}); point sqliteStore at a new or existing endure file`,
        options,
      );
    case "SQLITE_READONLY":
    case "SQLITE_READONLY_DIRECTORY":
    case "SQLITE_READONLY_RECOVERY":
    case "SQLITE_READONLY_CANTINIT":
    case "SQLITE_READONLY_DBMOVED":
    case "SQLITE_CANTOPEN":
      return new StoreReadOnlyError(
        `cannot write the endure store ${path} while ${doing} (${message}); make the file and its ` +
          "directory writable by this process (SQLite also writes -wal and -shm files beside it)",
        options,
      );
    case "SQLITE_CORRUPT":
    case "SQLITE_CORRUPT_INDEX":
    case "SQLITE_CORRUPT_VTAB":
      return new StoreCorruptError(
        `the endure store ${path} is damaged (${message}); restore it from a backup`,
        options,
      );
    case "SQLITE_FULL":
      return new StoreUnavailableError(
        `the disk holding ${path} is full while ${doing}; free space and the engine goes on`,
        options,
      );
    default:
      return new StoreUnavailableError(
        `the endure store ${path} failed while ${doing}: ${message}`,
        options,
      );
  }
}
