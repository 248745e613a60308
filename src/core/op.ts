// Deterministic: an operation the workflow code asked for, and what executing one needs.
import type { NewEntry } from "./journal.js";
import type { RunPort } from "./run-port.js";

/** An operation the code has asked for and not yet seen settled. */
export interface Op {
  readonly position: number;
  readonly kind: "step" | "sleep" | "wait" | "value";
  /** Cancellation starts a new generation; operations of an older one are abandoned. */
  readonly generation: number;
  readonly key: string;
  /** Where the code asked for it (`file:line:column`), on first execution. */
  readonly site: string | null;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What the run context offers the code that executes an operation. */
export interface OpHost {
  readonly runId: string;
  readonly port: RunPort;
  /** True once the run has an outcome or was halted: stop and write nothing. */
  readonly halted: boolean;
  /** False once the run moved on without this operation (it is being cancelled). */
  isCurrent(op: Op): boolean;
  /** Stops an in-memory wait started with {@link waitUntil} (its promise never settles). */
  cancelTimer(position: number): void;
  /** The run waits on something outside it (an event, a signal, people) until this ends. */
  externalWaitStarted(): () => void;
  append(entry: NewEntry): void;
  countCommitted(entries: number): void;
  /** Hands a result to the code after earlier ones; `first` puts it ahead of held ones. */
  settleLive(op: Op, settle: () => void, first?: boolean): void;
  /** Holds back live settlements (during a transactional step) until the returned release. */
  holdSettlements(): () => void;
  /** Runs `work` after any earlier `serially` work of this run has finished. */
  serially<T>(work: () => Promise<T>): Promise<T>;
  /** True once the host asked the run to stop starting step bodies (a graceful close). */
  readonly draining: boolean;
  /** A step body (or its wait for durability) starts: a run with one in flight is never idle. */
  bodyStarted(): void;
  /** ... and ends. */
  bodyEnded(): void;
  /** The run's signal, aborted when it is cancelled or lost: for bodies without a timeout. */
  readonly runSignal: AbortSignal;
  /** A controller of its own for a body with a timeout, also aborted when the run is. */
  controller(): { controller: AbortController; release: () => void };
  waitUntil(position: number, wakeAt: number): Promise<void>;
}
