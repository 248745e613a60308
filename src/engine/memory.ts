// Memory from outside a run: `engine.memory(namespace, key)` reads and writes a key (a write
// serialized with every run's, in a transaction of its own), lists a namespace's keys by
// prefix, and shows a key's history: which run (or who) changed it, and when.
import type { Clock } from "../core/clock.js";
import { ensureError, InvalidArgumentError } from "../core/errors.js";
import {
  DECIDER_LENGTH_MAX,
  MEMORY_KEY_LENGTH_MAX,
  MEMORY_LIST_LIMIT_DEFAULT,
  MEMORY_LIST_LIMIT_MAX,
} from "../core/limits.js";
import {
  checkMemoryKey,
  checkMemoryNamespace,
  encodeMemoryValue,
  type MemoryChange,
  type MemoryRecord,
} from "../core/memory.js";
import { decodeValue } from "../core/serialize.js";
import { checkText } from "../core/text.js";
import type { MemoryNamespaceRecord, Store } from "../store/store.js";

/** A memory key's value with where it came from. */
export interface MemoryValue<T = unknown> {
  readonly namespace: string;
  readonly key: string;
  readonly value: T;
  /** 1 for the first write, then one more per write. */
  readonly version: number;
  readonly updatedAt: Date;
  /** The run that wrote it last, or null when it was written from outside a run. */
  readonly runId: string | null;
  /** Who wrote it from outside a run, when they said (`set(v, { by })`), or null. */
  readonly by: string | null;
}

/** One write in a key's history. */
export interface MemoryVersion<T = unknown> {
  readonly version: number;
  readonly value: T;
  readonly at: Date;
  /** The run that wrote it, or null when written from outside a run. */
  readonly runId: string | null;
  /** The position of the writing operation in that run's journal. */
  readonly position: number | null;
  readonly by: string | null;
}

/** Who writes from outside a run, for the key's history. */
export interface MemoryWriteOptions {
  /** A person or system (at most 256 characters), shown in the history. */
  by?: string;
}

/** A memory key, read and written from outside a run. */
export interface MemoryKeyHandle<T = unknown> {
  /** The value, or undefined when the key has none. */
  get(): Promise<T | undefined>;
  /** The value with its version and last writer, or null when the key has none. */
  info(): Promise<MemoryValue<T> | null>;
  /** Replaces the value, serialized with every run's write to the key. */
  set(value: T, options?: MemoryWriteOptions): Promise<MemoryValue<T>>;
  /** Reads and writes the key in one transaction holding its lock (see `ctx.memory`). */
  update(
    fn: (current: T | undefined) => T | Promise<T>,
    options?: MemoryWriteOptions,
  ): Promise<MemoryValue<T>>;
  /** The key's last writes, newest first (the last MEMORY_HISTORY_PER_KEY_MAX are kept). */
  history(options?: { limit?: number }): Promise<MemoryVersion<T>[]>;
}

/** Options of {@link MemoryNamespaceHandle.list}. */
export interface ListMemoryOptions {
  /** Only keys that start with this text. */
  prefix?: string;
  /** Keys after this one: the `next` of a previous page. */
  after?: string;
  /** Keys per page: default 100, at most 1,000. */
  limit?: number;
}

/** A memory namespace from outside a run. */
export interface MemoryNamespaceHandle {
  readonly namespace: string;
  /** Its keys in key order, with their values; `next` continues the listing. */
  list(options?: ListMemoryOptions): Promise<{ keys: MemoryValue[]; next: string | null }>;
  /** A handle on one of its keys. */
  key<T = unknown>(key: string): MemoryKeyHandle<T>;
}

/** A namespace that holds keys. */
export interface MemoryNamespaceInfo {
  readonly namespace: string;
  readonly keys: number;
  readonly updatedAt: Date;
}

function valueOf<T>(record: MemoryRecord): MemoryValue<T> {
  return {
    namespace: record.namespace,
    key: record.key,
    value: decodeValue(record.value) as T,
    version: record.version,
    updatedAt: new Date(record.updatedAt),
    runId: record.runId,
    by: record.by,
  };
}

function versionOf<T>(change: MemoryChange): MemoryVersion<T> {
  return {
    version: change.version,
    value: decodeValue(change.value) as T,
    at: new Date(change.at),
    runId: change.runId,
    position: change.position,
    by: change.by,
  };
}

function limitOf(limit: number | undefined, what: string): number {
  const n = limit ?? MEMORY_LIST_LIMIT_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > MEMORY_LIST_LIMIT_MAX) {
    throw new InvalidArgumentError(
      `${what} must be a whole number from 1 to ${MEMORY_LIST_LIMIT_MAX}, got ${String(limit)}`,
    );
  }
  return n;
}

function byOf(options: MemoryWriteOptions | undefined): string | null {
  if (options?.by === undefined) return null;
  checkText(options.by, "memory write's by", DECIDER_LENGTH_MAX);
  return options.by;
}

/** A handle on `namespace`/`key` over `store`. */
export function memoryKey<T>(
  store: Store,
  clock: Clock,
  namespace: string,
  key: string,
): MemoryKeyHandle<T> {
  checkMemoryNamespace(namespace);
  checkMemoryKey(key);
  const write = async (
    make: (current: T | undefined) => T | Promise<T>,
    options: MemoryWriteOptions | undefined,
  ): Promise<MemoryValue<T>> => {
    const by = byOf(options);
    const record = await store.memoryTransaction(async (memory) => {
      const current = await memory.read(namespace, key);
      const next = await make(current === null ? undefined : (decodeValue(current.value) as T));
      const value = encodeMemoryValue(next, namespace, key);
      return memory.write({
        namespace,
        key,
        value,
        at: clock.now(),
        runId: null,
        position: null,
        by,
      });
    });
    return valueOf<T>(record);
  };
  return {
    async get() {
      const record = await store.readMemory(namespace, key);
      return record === null ? undefined : (decodeValue(record.value) as T);
    },
    async info() {
      const record = await store.readMemory(namespace, key);
      return record === null ? null : valueOf<T>(record);
    },
    set(value, options) {
      // Checked before the transaction, so that a bad value never takes the key's lock.
      try {
        encodeMemoryValue(value, namespace, key);
      } catch (e) {
        return Promise.reject(ensureError(e));
      }
      return write(() => value, options);
    },
    update(fn, options) {
      if (typeof fn !== "function") {
        return Promise.reject(
          new InvalidArgumentError(
            `memory '${namespace}' key '${key}': update needs a function of the current value`,
          ),
        );
      }
      return write(fn, options);
    },
    async history(options = {}) {
      const limit = limitOf(options.limit, "history limit");
      const changes = await store.memoryHistory(namespace, key, limit);
      return changes.map((c) => versionOf<T>(c));
    },
  };
}

/** A handle on `namespace` over `store`. */
export function memoryNamespace(
  store: Store,
  clock: Clock,
  namespace: string,
): MemoryNamespaceHandle {
  checkMemoryNamespace(namespace);
  return {
    namespace,
    async list(options = {}) {
      const limit = limitOf(options.limit, "memory list limit");
      if (options.prefix !== undefined)
        checkText(options.prefix, "memory key prefix", MEMORY_KEY_LENGTH_MAX, { emptyOk: true });
      if (options.after !== undefined) checkMemoryKey(options.after);
      const records = await store.listMemory({
        namespace,
        limit: limit + 1,
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.after === undefined ? {} : { after: options.after }),
      });
      const page = records.slice(0, limit);
      const next = records.length > limit ? (page[page.length - 1]?.key ?? null) : null;
      return { keys: page.map((r) => valueOf(r)), next };
    },
    key: <T>(key: string) => memoryKey<T>(store, clock, namespace, key),
  };
}

/** Namespaces that hold keys, in name order. */
export async function memoryNamespaces(store: Store): Promise<MemoryNamespaceInfo[]> {
  const rows: MemoryNamespaceRecord[] = await store.listMemoryNamespaces();
  return rows.map((r) => ({
    namespace: r.namespace,
    keys: r.keys,
    updatedAt: new Date(r.updatedAt),
  }));
}
