// Deterministic: what the replay core needs from its host (a worker), and what it returns.
import type { Clock } from "./clock.js";
import type { RateLimit } from "./flow-control.js";
import type { NewEntry } from "./journal.js";
import type { NewChunk } from "./stream.js";
import type { CanonicalMatch } from "./match.js";
import type { MemoryTx } from "./memory.js";
import type { SqlTransaction } from "./types.js";

/** What a wait waits for: `child` waits for the child run whose id is its target. */
export type WaitKind = "event" | "signal" | "approval" | "child";

/** A child run to create with the parent's next commit (`ctx.invoke`, `ctx.startChild`). */
export interface ChildRequest {
  readonly runId: string;
  readonly workflow: string;
  readonly version: string | null;
  /** The encoded input. */
  readonly input: string;
  /** Left running when its parent is cancelled or stops waiting for it. */
  readonly detached: boolean;
}

/** A child's workflow as this engine registers it, with the input it checked. */
export interface ChildWorkflow {
  readonly name: string;
  readonly version: string | null;
  readonly input: unknown;
}

/** A wait to create, with the entries of the run's next commit. */
export interface WaitRequest {
  readonly position: number;
  readonly key: string;
  readonly kind: WaitKind;
  /** The event name, the signal name, or the approval's name. */
  readonly target: string;
  readonly match: CanonicalMatch | null;
  readonly timeoutAt: number;
  /** Encoded approval rules and what is being approved (`ApprovalRules` + `details`). */
  readonly details: string | null;
}

/** How a wait ended. `value` is encoded: what the code receives (null for nothing). */
export interface WaitOutcome {
  readonly status: "satisfied" | "timed_out" | "resolved" | "cancelled";
  readonly value: string | null;
}

/** A request to end an open wait; stores refuse it (and return the actual end) when the wait
 * already ended. For approvals the store fills in the result from the decisions so far. */
export type WaitClosure =
  | { readonly status: "timed_out" }
  | { readonly status: "cancelled" }
  | { readonly status: "resolved"; readonly value: string | null; readonly approved?: boolean };

/** An event sent from inside a run (reminders, `ctx.sendEvent`). */
export interface OutgoingEvent {
  readonly id: string;
  readonly name: string;
  /** Encoded data. */
  readonly data: string;
}

/** Limits that apply inside a run. */
export interface RunLimits {
  readonly payloadBytesMax: number;
  /** The largest step result or run output: `payloadBytesMax`, or more with blobs. */
  readonly resultBytesMax: number;
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
   * returns commit in that same transaction. A throw rolls everything back. `memory` reads and
   * writes memory keys in that transaction.
   */
  transaction(body: (tx: SqlTransaction, memory: MemoryTx) => Promise<NewEntry[]>): Promise<void>;
  /**
   * Resolves once `units` of the rate limit may be used (after waiting their turn). If the
   * store fails instead, the host halts the run and this never resolves.
   */
  acquireRate(limit: RateLimit): Promise<void>;
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
  /** Longest wait, in ms, when the code gives no timeout (the engine's default: 30 days). */
  readonly waitTimeoutMsDefault: number;
  /** Creates a wait with the run's next commit (with its `wait_started` entry). */
  createWait(wait: WaitRequest): void;
  /** Resolves once the wait at `position` has ended, however it ended. */
  waitOutcome(position: number): Promise<WaitOutcome>;
  /** Ends an open wait; resolves with how it actually ended. */
  closeWait(position: number, closure: WaitClosure): Promise<WaitOutcome>;
  /** Adds approvers to an open approval. */
  addApprovers(position: number, approvers: readonly string[]): Promise<void>;
  /** Sends an event (idempotent on its id). */
  sendEvent(event: OutgoingEvent): Promise<void>;
  /** Ends every open wait of the run as cancelled. */
  cancelWaits(): Promise<void>;
  /**
   * The workflow a child run of `workflow` (a definition or a registered name) takes, with
   * `input` checked against its schema. Throws a `WorkflowNotFoundError` when this engine does
   * not register it, an `InputValidationError` when the input fails the schema.
   */
  childWorkflow(workflow: unknown, input: unknown): ChildWorkflow;
  /** Creates a child run with the run's next commit (before the waits of that commit). */
  startChild(child: ChildRequest): void;
  /** Asks the run's children that are not detached and have not ended to cancel. */
  cancelChildren(reason: string): Promise<void>;
  /**
   * Withdraws the wait at `position` (it lost a combinator), after the run's entries so far
   * are committed: it takes nothing more, and what it had taken goes to the run's next wait
   * that matches it. If the store fails instead, the host halts the run and this never
   * resolves.
   */
  withdrawWait(position: number): Promise<void>;
}

/** How a run's execution in memory ended. */
export type RunOutcome =
  | { readonly kind: "completed"; readonly entry: NewEntry; readonly output: string }
  | { readonly kind: "failed"; readonly entry: NewEntry; readonly error: string }
  | {
      readonly kind: "paused";
      readonly entry: NewEntry;
      /** Why, for people. */
      readonly reason: string;
      /** The kind of pause the run's record keeps (`paused_reason`). */
      readonly code: "non_determinism" | "upcast_failed";
    }
  | {
      readonly kind: "cancelled";
      readonly status: "cancelled" | "timed_out";
      readonly entry: NewEntry;
      readonly error: string;
    }
  /** The run carries on in a fresh journal segment (`ctx.continueAsNew`): `entry` is its
   * `run_continued`, to commit as the run is handed back to be claimed again. */
  | { readonly kind: "continued"; readonly entry: NewEntry }
  | { readonly kind: "halted" };
