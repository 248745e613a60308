// Opens a SQLite file as an endure store: recognizes foreign and newer files, sets WAL and
// the durability level, and applies migrations in one write transaction.
import Database from "better-sqlite3";
import {
  StoreCorruptError,
  StoreNotEndureError,
  StoreOutdatedError,
  StoreTooNewError,
} from "../../core/errors.js";
import { storeError } from "./errors.js";
import { QUICK_CHECK_PROBLEMS_MAX, SQLITE_CACHE_KIB } from "./limits.js";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from "./schema.js";

/** The path of an in-memory store: gone when the store closes, seen by this process only. */
export const MEMORY_PATH = ":memory:";

interface OpenOptions {
  durability: "fsync" | "process";
  busyTimeoutMs: number;
  checkOnOpen: "quick" | "none";
  readOnly: boolean;
}

/** Opens (creating if needed) and migrates the store at `path`; returns two connections. */
export function openDatabase(
  path: string,
  options: OpenOptions,
): { writer: Database.Database; reader: Database.Database } {
  let writer: Database.Database | undefined;
  try {
    if (options.readOnly) return openReadOnly(path, options);
    writer = new Database(path);
    configure(writer, options);
    checkIdentity(writer, path);
    if (options.checkOnOpen === "quick") checkPages(writer, path);
    migrate(writer, path);
    // Each connection to ":memory:" is a database of its own: an in-memory store reads and
    // writes on its single connection (and lives as long as the store is open).
    if (path === MEMORY_PATH) return { writer, reader: writer };
    const reader = new Database(path);
    configure(reader, options);
    return { writer, reader };
  } catch (e) {
    writer?.close();
    if (
      e instanceof StoreNotEndureError ||
      e instanceof StoreTooNewError ||
      e instanceof StoreOutdatedError ||
      e instanceof StoreCorruptError
    )
      throw e;
    throw storeError(e, path, "opening it");
  }
}

/** Opens an existing, migrated store with one read-only connection: nothing is written, not
 * even a migration. */
function openReadOnly(
  path: string,
  options: OpenOptions,
): { writer: Database.Database; reader: Database.Database } {
  if (path === MEMORY_PATH)
    throw new StoreNotEndureError("an in-memory store cannot be opened read-only: it is empty");
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
    checkIdentity(db, path);
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version === 0)
      throw new StoreNotEndureError(`${path} is not an endure store (it holds no endure schema)`);
    if (version < SCHEMA_VERSION) {
      throw new StoreOutdatedError(
        `${path} has schema version ${version}, older than the ${SCHEMA_VERSION} this endure ` +
          "reads; a read-only open applies no migrations: run `endure migrate` (or open it with " +
          "a worker) first",
      );
    }
    if (options.checkOnOpen === "quick") checkPages(db, path);
    return { writer: db, reader: db };
  } catch (e) {
    db.close();
    throw e;
  }
}

function configure(db: Database.Database, options: OpenOptions): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
  db.pragma("journal_mode = WAL");
  // Many runs write to different pages of the journal in one group commit: keep them cached.
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  // In WAL mode FULL syncs the log on every commit (safe against power loss); NORMAL writes
  // it without syncing (safe against a crash of the process, not of the machine).
  db.pragma(`synchronous = ${options.durability === "fsync" ? "FULL" : "NORMAL"}`);
}

function checkIdentity(db: Database.Database, path: string): void {
  const appId = db.pragma("application_id", { simple: true }) as number;
  const version = db.pragma("user_version", { simple: true }) as number;
  if (appId === 0) {
    const tables = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
      .get() as { n: number };
    if (tables.n > 0) {
      throw new StoreNotEndureError(
        `${path} is a SQLite database of another application (it has tables but is not marked as ` +
          "an endure store); give sqliteStore a new file path",
      );
    }
    return;
  }
  if (appId !== APPLICATION_ID) {
    throw new StoreNotEndureError(
      `${path} is a SQLite database of another application (application_id ${appId}); give sqliteStore a new file path`,
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreTooNewError(
      `${path} has schema version ${version}, newer than the ${SCHEMA_VERSION} this endure understands; ` +
        "upgrade endure (nothing was changed in the file)",
    );
  }
}

/**
 * Refuses a damaged file before anything is written into it: SQLite's quick check reads every
 * page and verifies its structure (not index contents against tables, which
 * `PRAGMA integrity_check` adds). It costs a read of the file at each open, about a second
 * per GB on an SSD.
 */
function checkPages(db: Database.Database, path: string): void {
  let problems: string[];
  try {
    const rows = db.pragma(`quick_check(${QUICK_CHECK_PROBLEMS_MAX})`) as Array<{
      quick_check: string;
    }>;
    // SQLite may put several findings in one row, one per line: the message keeps one line.
    problems = rows
      .flatMap((r) => r.quick_check.split("\n"))
      .map((p) => p.trim())
      .filter((p) => p !== "" && p !== "ok");
  } catch (e) {
    // Damage the check cannot read past (a garbled schema page) is an error of its own.
    if (!String((e as { code?: unknown }).code).startsWith("SQLITE_CORRUPT")) throw e;
    problems = [(e as Error).message];
  }
  if (problems.length > 0) {
    throw new StoreCorruptError(
      `the endure store ${path} is damaged; SQLite's quick check found: ${problems.join("; ")}; ` +
        "restore it from a backup (nothing was written into it)",
    );
  }
}

function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    // Another process may have migrated since we looked: decide inside the write lock.
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreTooNewError(
        `${path} has schema version ${version}, newer than ${SCHEMA_VERSION}; upgrade endure`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? "");
    if (version === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
