// Deterministic: what the replay core needs from its host (a worker), and what it returns.
import type { Clock } from "./clock.js";
import type { NewEntry } from "./journal.js";
import type { NewChunk } from "./stream.js";
import type { SqlTransaction } from "./types.js";

/** Limits that apply inside a run. */
export interface RunLimits {
  readonly payloadBytesMax: number;
  readonly payloadBytesWarn: number;
  readonly journalEntriesMax: number;
}

/**
 * The host's side of a run: where entries go, when they are durable, and the sources of
 * time and entropy. A worker implements it over a store; tests implement it in memory.
 */
export interface RunPort {
  readonly clock: Clock;
  readonly limits: RunLimits;
  /** Queues an entry for the run's next commit. */
  append(entry: NewEntry): void;
  /**
   * Resolves once every entry appended so far is committed. If the run is lost instead (its
   * lease taken, its commit refused), the host halts the run and this never resolves.
   */
  durable(): Promise<void>;
  /**
   * Runs `body` inside a store transaction, after every entry appended so far; the entries it
   * returns commit in that same transaction. A throw rolls everything back.
   */
  transaction(body: (tx: SqlTransaction) => Promise<NewEntry[]>): Promise<void>;
  /** Resolves on the next turn of the event loop, once pending microtasks have run. */
  nextTurn(): Promise<void>;
  /** A random number in [0, 1). Whatever the run sees of it is journaled. */
  entropy(): number;
  /** A random UUID. */
  uuid(): string;
  /** Queues a part of the run's output stream; it is written soon, without being asked for. */
  emit(chunk: NewChunk): void;
  /** The run's set of pending operations changed; it may have become idle. */
  changed(): void;
  /** A warning worth a log line (a large payload, ...). */
  warn(message: string): void;
}

/** How a run's execution in memory ended. */
export type RunOutcome =
  | { readonly kind: "completed"; readonly entry: NewEntry; readonly output: string }
  | { readonly kind: "failed"; readonly entry: NewEntry; readonly error: string }
  | { readonly kind: "paused"; readonly entry: NewEntry; readonly reason: string }
  | { readonly kind: "halted" };
