// Deterministic: an operation the workflow code asked for, and the scope that executes it.
import type { JournalEntry, NewEntry } from "./journal.js";
import type { RunPort } from "./run-port.js";
import type { PayloadShape } from "./shapes.js";

/** An operation the code has asked for and not yet seen settled. */
export interface Op {
  readonly position: number;
  readonly kind: "step" | "sleep" | "wait" | "combinator" | "value" | "memory";
  /** Cancellation starts a new generation; operations of an older one are abandoned. */
  readonly generation: number;
  readonly key: string;
  /** Where the code asked for it (`file:line:column`), on first execution. */
  readonly site: string | null;
  /** The shape its value is journaled at and brought up to on replay (a step's result, an
   * event wait's data), when the code declares one. */
  readonly shape?: PayloadShape | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Hands the operation a settling entry of its journal, when it reads its own (combinators). */
  fromJournal?: (entry: JournalEntry) => void;
}

/** How a live settlement is handed over. */
export interface SettleOptions {
  /** Ahead of queued results (a transactional step). */
  readonly first?: boolean;
  /** The operation failed (its promise rejects): combinators waiting on it count it so. */
  readonly failed?: boolean;
}

/**
 * What executing an operation may use of its run: the journal, the in-memory timers, the
 * bodies in flight and the ordered hand-over of results. One scope per run, handed to each
 * operation; the operation never sees the rest of the run.
 */
export interface OpScope {
  readonly runId: string;
  readonly port: RunPort;
  /** True once the run has an outcome or was halted: stop and write nothing. */
  readonly ended: boolean;
  /** False once the run moved on without this operation (it is being cancelled, or it lost
   * a combinator and was withdrawn). */
  isCurrent(op: Op): boolean;
  /** Resolves when the operation at `position` is withdrawn (it lost a combinator). */
  withdrawal(position: number): Promise<void>;
  /** Stops an in-memory wait started with {@link waitUntil} (its promise never settles). */
  cancelTimer(position: number): void;
  /** The run waits on something outside it (an event, a signal, people) until this ends. */
  externalWaitStarted(): () => void;
  /** Appends an entry, counting it against the journal limit. */
  append(entry: NewEntry): void;
  /** Counts entries committed through a transaction against the journal limit. */
  countCommitted(entries: number): void;
  /** Hands a result to the code after earlier ones (see {@link SettleOptions}). */
  settleLive(op: Op, settle: () => void, options?: SettleOptions): void;
  /** Holds back live settlements (during a transactional step) until the returned release. */
  holdSettlements(): () => void;
  /** Runs `work` after any earlier `serially` work of this run has finished. */
  serially<T>(work: () => Promise<T>): Promise<T>;
  /** True once the worker asked the run to stop starting step bodies (a graceful close). */
  readonly draining: boolean;
  /** A step body (or its wait for durability) starts: a run with one in flight is never idle. */
  bodyStarted(): void;
  /** ... and ends. */
  bodyEnded(): void;
  /** The run's signal, aborted when it is cancelled or lost: for bodies without a timeout. */
  readonly runSignal: AbortSignal;
  /** A controller of its own for a body with a timeout, also aborted when the run is. */
  controller(): { controller: AbortController; release: () => void };
  /** Waits, in memory, until `wakeAt` on the run's clock; the worker may evict the run instead. */
  waitUntil(position: number, wakeAt: number): Promise<void>;
}
