// Deterministic: durable keyed memory: values that live in the store beside the journal and
// outlive runs. The shapes a store keeps them in, the checks every namespace, key and value
// pass, and the handles workflow code and the engine use.
import { checkText } from "./text.js";
import { InvalidArgumentError, PayloadTooLargeError } from "./errors.js";
import { MEMORY_KEY_LENGTH_MAX, MEMORY_VALUE_BYTES_MAX, NAME_LENGTH_MAX } from "./limits.js";
import { byteLength, encodeValue } from "./serialize.js";

/** A memory key's current value, as the store keeps it. */
export interface MemoryRecord {
  readonly namespace: string;
  readonly key: string;
  /** The encoded value (see `serialize.ts`). */
  readonly value: string;
  /** 1 for the first write, then one more per write. */
  readonly version: number;
  /** When it was last written, epoch milliseconds (engine clock). */
  readonly updatedAt: number;
  /** The run that wrote it last, or null when it was written from outside a run. */
  readonly runId: string | null;
  /** Who wrote it from outside a run (`engine.memory(...).set(v, { by })`), or null. */
  readonly by: string | null;
}

/** One write of a memory key, as its history keeps it. */
export interface MemoryChange {
  readonly namespace: string;
  readonly key: string;
  readonly version: number;
  /** The encoded value written. */
  readonly value: string;
  readonly at: number;
  /** The run that wrote it, or null when written from outside a run. */
  readonly runId: string | null;
  /** The operation's position in that run's journal, or null. */
  readonly position: number | null;
  readonly by: string | null;
}

/** A write to make: the store gives it the next version. */
export interface MemoryWrite {
  readonly namespace: string;
  readonly key: string;
  /** The encoded value. */
  readonly value: string;
  readonly at: number;
  readonly runId: string | null;
  readonly position: number | null;
  readonly by: string | null;
}

/**
 * Memory inside one store transaction. Reading a key locks it until the transaction ends
 * (writes to one key are serialized: a read-modify-write never loses another's write), and a
 * write commits with the transaction's journal entries or not at all.
 */
export interface MemoryTx {
  /** The key's value, locked for the rest of the transaction; null when it has none. */
  read(namespace: string, key: string): Promise<MemoryRecord | null>;
  /** Writes the key (read it first, to hold its lock) and records the change in its history. */
  write(write: MemoryWrite): Promise<MemoryRecord>;
}

/**
 * A handle on one memory key inside a workflow: every read and write is journaled with the
 * run, so a replay sees exactly what the first execution saw, and a write commits in one
 * transaction with its journal entry. Writes to one key are serialized across runs and
 * workers, so an `update` never loses another run's write.
 */
export interface MemoryHandle<T = unknown> {
  /** The key's value, or undefined when it has none. Journaled: a replay gets the same. */
  get(): Promise<T | undefined>;
  /** Replaces the value (at most {@link MEMORY_VALUE_BYTES_MAX} bytes serialized). */
  set(value: T): Promise<void>;
  /**
   * Reads the value and writes `fn`'s result in one transaction, holding the key's lock in
   * between: concurrent updates of one key from many runs each see the one before. `fn` runs
   * once on first execution (a replay returns the journaled result); keep it quick, and do no
   * I/O in it. Resolves with the value written.
   *
   * @example
   * ```ts
   * const visits = await ctx.memory<number>("customer", id).update((n) => (n ?? 0) + 1);
   * ```
   */
  update(fn: (current: T | undefined) => T | Promise<T>): Promise<T>;
}

/** Refuses a namespace that is not a name (see `checkName`): no `/`, which separates keys. */
export function checkMemoryNamespace(namespace: unknown): asserts namespace is string {
  checkText(namespace, "memory namespace", NAME_LENGTH_MAX);
  if (/[/#]/.test(namespace)) {
    throw new InvalidArgumentError(
      `memory namespace '${namespace}' must not contain '/' or '#'; put structure in the key ` +
        "(ctx.memory('customer', '42/notes'))",
    );
  }
}

/** Refuses a key that is not a storable string of at most {@link MEMORY_KEY_LENGTH_MAX}. */
export function checkMemoryKey(key: unknown): asserts key is string {
  checkText(key, "memory key", MEMORY_KEY_LENGTH_MAX);
}

/** Encodes a value for a memory key, refusing one over {@link MEMORY_VALUE_BYTES_MAX}. */
export function encodeMemoryValue(value: unknown, namespace: string, key: string): string {
  const what = `memory value of '${namespace}' key '${key}'`;
  const encoded = encodeValue(value, what);
  const bytes = byteLength(encoded);
  if (bytes > MEMORY_VALUE_BYTES_MAX) {
    throw new PayloadTooLargeError(
      `${what} is ${bytes} bytes serialized, over the limit of ${MEMORY_VALUE_BYTES_MAX} bytes ` +
        "(MEMORY_VALUE_BYTES_MAX); keep large data elsewhere (a file or blob store) and " +
        "remember its key",
    );
  }
  return encoded;
}
