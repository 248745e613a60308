// The Store contract: everything the engine needs from a database, and nothing about SQL.
// Every store passes the shared conformance suite (see ./conformance.ts).
import type { JournalEntry, NewEntry } from "../core/journal.js";
import type { MemoryChange, MemoryRecord, MemoryTx } from "../core/memory.js";
import type { WaitClosure, WaitKind, WaitOutcome, WaitRequest } from "../core/run-port.js";
import type { Cancellation, RunStatus, SqlTransaction } from "../core/types.js";
import type { RunUsage } from "../core/usage.js";
import type { NewChunk, OutputStreamStore } from "./stream.js";
import type { RunKeyStore } from "./run-keys.js";

/** A run as the store keeps it. Payload fields hold encoded values (see `core/serialize`). */
export interface RunRecord {
  readonly id: string;
  readonly workflow: string;
  readonly version: string | null;
  readonly status: RunStatus;
  readonly input: string;
  readonly output: string | null;
  readonly error: string | null;
  /** Why a paused run is paused: `non_determinism`, `crash_loop`, ... */
  readonly pausedReason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  /** When a waiting run becomes runnable again, if a timer wakes it. */
  readonly wakeAt: number | null;
  /** The worker holding the run's lease, while it runs. */
  readonly owner: string | null;
  /** Fencing token: increases on every claim; a write carrying an older one is refused. */
  readonly epoch: number;
  /** Takeovers after a crash in a row without progress (poison detection). */
  readonly recoveries: number;
  /** Higher runs are claimed first. */
  readonly priority: number;
  /**
   * The run's concurrency key, when its workflow has a concurrency limit: `""` for a limit
   * on the whole workflow, else the key its input gave. Null when unlimited.
   */
  readonly concurrencyKey: string | null;
  /** Sums of the `usage` of the run's entries (metered steps such as model calls). */
  readonly usage: RunUsage;
  /** A cancellation asked for and not yet carried out by the run. */
  readonly cancelRequested: Cancellation | null;
  /** When the run must end (its workflow's `ttl`), if it has one. */
  readonly deadlineAt: number | null;
  /** The run that started this one (`ctx.invoke`, `ctx.startChild`), or null. */
  readonly parentId: string | null;
}

/** A claim to take with a new run, so that the starting worker runs it without a round trip. */
export interface ClaimAtCreate {
  readonly workerId: string;
  readonly leaseMs: number;
}

/** A run to create, with its first journal entry. */
export interface RunCreate {
  readonly id: string;
  readonly workflow: string;
  readonly version: string | null;
  readonly input: string;
  readonly started: NewEntry;
  /** Null to leave the run pending for any worker. Never set for a concurrency-limited run. */
  readonly claim: ClaimAtCreate | null;
  readonly priority: number;
  readonly concurrencyKey: string | null;
  /** When the run must end (its workflow's `ttl`), or null. */
  readonly deadlineAt: number | null;
  /** The parent of a child run; `detached` children are not cancelled with it. */
  readonly parent?: { readonly runId: string; readonly detached: boolean };
}

/** The outcome of a create: a new run, or the existing run with the same id. */
export interface CreateResult {
  readonly created: boolean;
  readonly run: RunRecord;
}

/** A change of a run's status written together with its entries. */
export type RunUpdate =
  | { readonly status: "completed"; readonly output: string }
  | { readonly status: "failed"; readonly error: string }
  | { readonly status: "cancelled" | "timed_out"; readonly error: string }
  | { readonly status: "paused"; readonly reason: string }
  /** Evicted: the lease is released and a timer (or, later, an event) wakes it. */
  | { readonly status: "waiting"; readonly wakeAt: number | null }
  /** Handed back: runnable by any worker at once. */
  | { readonly status: "pending" };

/** Entries (and maybe a status change) for one run, fenced by the writer's epoch. */
export interface RunWrite {
  readonly runId: string;
  readonly epoch: number;
  readonly entries: readonly NewEntry[];
  readonly update: RunUpdate | null;
  /** Parts for the run's output stream (see {@link OutputStreamStore}). */
  readonly chunks?: readonly NewChunk[];
  /**
   * Waits to create with the entries. An event wait takes at once the first matching event
   * that arrived since the run was created and that the run has not consumed; a signal wait
   * the first unread signal of its name.
   */
  readonly waits?: readonly WaitRequest[];
  /**
   * Child runs to create (each with `parent` set to this run), before the waits: a run that
   * exists already is left as it is. A child wait (kind `child`, its target the child's id)
   * ends at once when its child has ended, or when its target is not a child of this run
   * (a refusal: see `encodeChildRefusal`).
   */
  readonly children?: readonly RunCreate[];
  /**
   * The run's parent (its record's `parentId`), when it has one. A write that ends the run
   * ends, in the same transaction, the parent's open waits for it with its outcome (see
   * `encodeChildOutcome`) and makes the parent runnable; stores may need the hint to take
   * the way that can.
   */
  readonly parentId?: string;
}

/** Whether a fenced write landed. `fenced` means the run's epoch moved on (or it ended).
 * `woken` lists the waits of other runs the write ended (a child's parent), to be told. */
export type WriteResult =
  { readonly kind: "committed"; readonly woken?: readonly WaitRef[] } | { readonly kind: "fenced" };

/** One group commit: creates and writes of many runs, in one transaction. */
export interface CommitBatch {
  readonly creates: readonly RunCreate[];
  readonly writes: readonly RunWrite[];
  /** Engine clock, epoch milliseconds. */
  readonly now: number;
}

/** Results of a {@link CommitBatch}, index for index. */
export interface CommitResult {
  readonly creates: readonly CreateResult[];
  readonly writes: readonly WriteResult[];
}

/** Which runs a worker may claim. */
export interface ClaimRequest {
  readonly workerId: string;
  /** Workflows this worker can execute. */
  readonly workflows: readonly string[];
  readonly limit: number;
  readonly leaseMs: number;
  readonly now: number;
  /**
   * At a worker's start: also take runs this worker id still owns (it restarted), and runs
   * paused by non-determinism (the code may have been fixed).
   */
  readonly recovering: boolean;
  /**
   * Also look for the runs that only a crash or a missing version makes claimable: runs whose
   * owner's lease expired or whose owner's process died, and runs pinned to a version no
   * worker took within `versionGraceMs`. Default true. A worker woken often asks for them at
   * most once per poll interval (the queries look at every running run), so a takeover can
   * wait that long; a store may look for them every time.
   */
  readonly sweep?: boolean;
  /**
   * Concurrency limits by workflow name: at most this many runs with one concurrency key hold
   * a lease at once, across every worker. A run taken over keeps its place; a run without a
   * key counts under the key `""` (the whole workflow).
   */
  readonly concurrency: Readonly<Record<string, number>>;
  /**
   * The versions this worker registers, by workflow name (null: a workflow without a
   * version). When given, a run of a listed workflow is claimed only if it is pinned to one
   * of its versions, or if it is pinned to another and has been runnable for
   * `versionGraceMs` (no worker with its version took it: this worker pauses it). Absent:
   * runs are claimed whatever their version.
   */
  readonly versions?: Readonly<Record<string, readonly (string | null)[]>>;
  /** See `versions`. */
  readonly versionGraceMs?: number;
}

/** Which entries of a run's journal {@link Store.readJournal} returns. */
export type JournalRange = "all" | "segment";

/** A run handed to a worker by {@link Store.claim}. */
export interface ClaimedRun {
  readonly run: RunRecord;
  /** The previous owner died or its lease expired: this is a recovery after a crash. */
  readonly takeover: boolean;
  /**
   * The run's journal from its newest segment on (see {@link Store.readJournal}), when the
   * store read it with the claim (one query for the whole batch instead of one per run).
   * Absent: the worker reads it with `readJournal`.
   */
  readonly journal?: readonly JournalEntry[];
}

/**
 * A request for `units` of the rate limit `key`: a token bucket of `limit` units refilled at
 * `limit` per `periodMs` (see `RateLimitOptions` for what that lets through).
 */
export interface RateRequest {
  readonly key: string;
  readonly units: number;
  readonly limit: number;
  readonly periodMs: number;
  /** Engine clock, epoch milliseconds (stores shared by machines use their own clock). */
  readonly now: number;
}

/** The units are reserved; use them after `waitMs` (0: at once). */
export interface RateGrant {
  readonly waitMs: number;
}

/**
 * A hint that runs may have become runnable elsewhere: a run created or handed back
 * (`workflows` null when any may be concerned), or a timer set for `wakeAt` (engine clock).
 * `owners`, when given, names the workers holding runs whose waits ended (they read their
 * inbox); without it, a wake-up for any workflow asks every worker to read its inbox.
 */
export interface StoreWake {
  readonly workflows: readonly string[] | null;
  readonly wakeAt: number | null;
  readonly owners?: readonly string[];
}

/** Filter and page of {@link Store.listRuns}. */
export interface RunFilter {
  readonly workflow?: string;
  readonly status?: RunStatus;
  /** Runs created at or after this time (epoch milliseconds). */
  readonly createdAfter?: number;
  /** Runs created before this time (epoch milliseconds). */
  readonly createdBefore?: number;
  /** Runs whose id contains this text (case-sensitive). */
  readonly idContains?: string;
  /** Children of this run (`ctx.invoke`, `ctx.startChild`). */
  readonly parentId?: string;
  readonly limit: number;
  /** Return runs created before this cursor (from a previous page's `next`). */
  readonly cursor?: string;
}

/** One page of runs, newest first. */
export interface RunPage {
  readonly runs: readonly RunRecord[];
  readonly next: string | null;
}

/** The outcome of a cancel request. */
export type CancelResult =
  /** Recorded: the run carries it out (runs its cleanup) when a worker next runs it. */
  | { readonly kind: "requested"; readonly run: RunRecord }
  /** A paused run, which cannot run its cleanup, was cancelled at once. */
  | { readonly kind: "cancelled"; readonly run: RunRecord }
  | { readonly kind: "finished"; readonly run: RunRecord }
  | { readonly kind: "not_found" };

/** A wait as the store keeps it. */
export interface WaitRecord {
  readonly runId: string;
  readonly position: number;
  readonly key: string;
  readonly kind: WaitKind;
  readonly target: string;
  readonly timeoutAt: number;
  /** Encoded approval rules and details, or null. */
  readonly details: string | null;
  readonly status: "open" | WaitOutcome["status"];
  /** Encoded value the wait ended with, or null. */
  readonly value: string | null;
  readonly createdAt: number;
  readonly endedAt: number | null;
  /** Approvers added by escalation. */
  readonly addedApprovers: readonly string[];
}

/** A wait that was ended and that the run has not journaled yet (it should be told). */
export interface WaitRef {
  readonly runId: string;
  readonly position: number;
}

/** An event as sent: `data` encoded. */
export interface EventInput {
  readonly id: string;
  readonly name: string;
  readonly data: string;
}

/** An event as stored. */
export interface EventRecord extends EventInput {
  readonly receivedAt: number;
  /** Order of arrival in the store. */
  readonly pos: number;
}

/** The outcome of sending an event. */
export interface SendEventResult {
  /** False when an event with this id existed already: nothing was delivered again. */
  readonly created: boolean;
  readonly event: EventRecord;
  /** Waits the event ended. Their runs are runnable again. */
  readonly woken: readonly WaitRef[];
}

/** The outcome of sending a signal to a run. */
export type SignalResult =
  | { readonly kind: "sent"; readonly woken: readonly WaitRef[] }
  | { readonly kind: "finished"; readonly run: RunRecord }
  | { readonly kind: "not_found" };

/** A decision on an approval. */
export interface DecisionInput {
  readonly by: string;
  readonly approved: boolean;
  readonly comment: string | null;
  readonly role: string | null;
}

/** The outcome of a decision. */
export type DecideResult =
  /** Recorded; more decisions are needed (quorum). */
  | { readonly kind: "recorded"; readonly wait: WaitRecord }
  /** Recorded, and the approval is settled. Its run is runnable again. */
  | { readonly kind: "settled"; readonly wait: WaitRecord }
  | { readonly kind: "refused"; readonly reason: string; readonly wait: WaitRecord }
  | { readonly kind: "already_ended"; readonly wait: WaitRecord }
  | { readonly kind: "not_found" };

/** An open approval with what people need to decide it. */
export interface ApprovalRecord {
  readonly wait: WaitRecord;
  readonly workflow: string;
  readonly decisions: readonly {
    readonly by: string;
    readonly approved: boolean;
    readonly comment: string | null;
    readonly role: string | null;
    readonly at: number;
  }[];
}

/** What a worker must tell the runs it holds: ended waits and cancellation requests. */
export type InboxItem =
  | { readonly kind: "wait_ended"; readonly runId: string; readonly position: number }
  | {
      readonly kind: "cancel_requested";
      readonly runId: string;
      readonly cancellation: Cancellation;
    };

/** Which memory keys {@link Store.listMemory} returns: those of `namespace` that start with
 * `prefix`, after the key `after` (a previous page's last), in key order. */
export interface MemoryFilter {
  readonly namespace: string;
  readonly prefix?: string;
  readonly after?: string;
  readonly limit: number;
}

/** A namespace of memory with how many keys it holds and when one was last written. */
export interface MemoryNamespaceRecord {
  readonly namespace: string;
  readonly keys: number;
  readonly updatedAt: number;
}

export type { MemoryChange, MemoryRecord, MemoryTx };

/** The outcome of a resume request for a paused run. */
export type ResumeResult =
  | { readonly kind: "resumed"; readonly run: RunRecord }
  | { readonly kind: "not_paused"; readonly run: RunRecord }
  | { readonly kind: "not_found" };

/**
 * How a store reads a payload it holds, when the engine seals payloads (see the engine's
 * `codec`): sealed text in, the text that was sealed out. The identity when nothing is sealed.
 */
export type PayloadOpener = (text: string) => string;

/**
 * Where journals, runs, timers and output streams live. A store serializes group commits and
 * fences every write by epoch; the engine above it knows nothing of its database. Entries
 * with a `usage` add it to their run's `usage` totals in the transaction that writes them.
 *
 * The journal contract, which every store keeps and the engine relies on:
 *
 * - **Append only, in order.** Entries of a run are kept in the order they were written
 *   (within one write, in the order of its `entries`); nothing is changed or removed except
 *   by retention (`deleteFinishedRuns`), which removes a whole run.
 * - **`seq` as readers see it is 1, 2, 3, ...** without gaps: `readJournal` (and a claim's
 *   `journal`) numbers the entries it returns in order from 1. How a store numbers its own
 *   rows is its business; readers never see those numbers.
 * - **A step's start and its success may share a row.** A `step_attempt_started` directly
 *   followed in one write by the `step_succeeded` of the same position may be stored as one
 *   row; reading it gives back both entries, each with its own `at` and `data`.
 * - **Rows a store adds for itself never reach readers**: PostgreSQL's lease marks take a
 *   row of the journal table, and `readJournal` skips them. They are not entries, and do not
 *   count as a run's progress.
 * - **`data` is opaque text.** A store keeps an entry's `type`, `at`, `position`, `key` and
 *   `data` exactly as given (byte for byte) and never parses `data`; what it holds is defined
 *   in `core/entry-data`. The values a store builds itself (an ended wait's value, an
 *   approval's result) come from `core/wait-values`.
 * - **Fencing.** A write carrying an epoch other than the run's current one writes nothing
 *   and reports `fenced`; so does a write to a run that is not running.
 * - **Payloads may be sealed.** With a codec, the engine hands the store sealed payloads
 *   (inputs, outputs, errors, entry data, event and signal data, wait details and values,
 *   approval comments, stream parts) and opens what it reads back. A store that reads a
 *   payload itself (event data to match waits, an approval's rules) reads it through the
 *   opener given to {@link Store.usePayloadOpener}; values it composes (an ended wait's value)
 *   embed the payloads as stored.
 */
export interface Store extends OutputStreamStore {
  /** Which SQL dialect transactional steps get. */
  readonly dialect: SqlTransaction["dialect"];
  /** A short description for logs and errors (a file path, a redacted URL). */
  readonly description: string;
  /** Opens the database and applies migrations. Typed errors for foreign or newer stores. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Sets how the store reads the payloads it looks into itself (event data when it matches an
   * event against waits, an approval's rules when it records a decision). The engine calls it
   * when it seals payloads; until then the store reads them as they are.
   */
  usePayloadOpener(open: PayloadOpener): void;
  /**
   * Where runs' data keys are kept (`aesGcmCodec({ runKeys: true })`, `engine.shred`). A store
   * without it cannot give runs keys of their own.
   */
  readonly runKeys?: RunKeyStore;
  /** Commits a batch atomically. Fenced writes are skipped, reported, and do not abort it. */
  commit(batch: CommitBatch): Promise<CommitResult>;
  /**
   * Runs `body` in a transaction fenced by (runId, epoch): appends `before` (the run's entries
   * queued until now), runs `body`, and appends the entries it returns, all in that one
   * transaction, as are the memory writes `body` makes through `memory`. Returns `fenced` (and writes nothing) if the epoch moved on; a throw from
   * `body` rolls everything back and is rethrown.
   */
  transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult>;
  /** Claims runnable runs under a lease, raising their epoch. */
  claim(request: ClaimRequest): Promise<ClaimedRun[]>;
  /** Extends the leases this worker holds; returns the ids of runs it no longer holds. */
  heartbeat(
    workerId: string,
    held: readonly { runId: string; epoch: number }[],
    leaseMs: number,
    now: number,
  ): Promise<string[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  listRuns(filter: RunFilter): Promise<RunPage>;
  /**
   * A run's journal: every entry (`"all"`, the default), or only its newest segment
   * (`"segment"`: from its last `run_continued` entry on, the whole journal when it has none),
   * which is what replay reads. A store finds where the newest segment starts through an
   * index, without reading the segments before it. Either way the entries returned are
   * numbered 1, 2, 3, ... from the first one returned.
   */
  readJournal(runId: string, range?: JournalRange): Promise<JournalEntry[]>;
  /**
   * Asks a run that has not ended to cancel: it is recorded on the run, which becomes runnable
   * if it was waiting. A paused run is cancelled at once (`entry`, `error`, a raised epoch).
   */
  cancel(
    runId: string,
    cancellation: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult>;
  /**
   * Makes a paused run runnable again, appending `entry` (a `run_resumed`). With `version`,
   * the run is pinned to that version of its workflow from now on (null: no version).
   */
  resume(
    runId: string,
    entry: NewEntry,
    now: number,
    options?: { readonly version?: string | null },
  ): Promise<ResumeResult>;
  /**
   * Makes a failed run runnable again (its error and end cleared), appending `entry` (a
   * `run_retried`). `not_paused` means the run has not failed.
   */
  retry(runId: string, entry: NewEntry, now: number): Promise<ResumeResult>;
  /**
   * Re-opens a run that ended (completed, failed, cancelled or timed out): it becomes pending,
   * its output, error, end and cancellation cleared and its epoch raised, and `entry` (a
   * `run_rewound`) is appended; the journal before it is kept. Its waits (and their decisions)
   * at `fromPosition` and after are removed, so that the run waits for them again. The events
   * and signals they took stay taken. `not_paused` means the run has not ended.
   */
  rewind(
    runId: string,
    request: { readonly entry: NewEntry; readonly fromPosition: number },
    now: number,
  ): Promise<ResumeResult>;
  /**
   * Creates a run, pending for any worker (`create.claim` is ignored), whose journal is
   * `create.started` followed by `entries` (a fork's `run_forked` and the entries it shares
   * with its parent), in one transaction. `created` is false, and nothing written, when a run
   * with that id exists.
   */
  fork(create: RunCreate, entries: readonly NewEntry[], now: number): Promise<CreateResult>;
  /** The earliest wake-up time of a waiting run, or null. */
  nextWakeAt(): Promise<number | null>;
  /**
   * Optional: how long, in ms, the one write lock of this process has been held by its
   * current holder (0 when free). Stores that serialize every write (SQLite) give it, so
   * that health sees a writer stuck in a transaction while reads still answer.
   */
  writeLockHeldMs?(): number;
  /**
   * Reserves units of a rate limit shared by every worker: a token bucket of `limit` units,
   * refilled at `limit` per `periodMs`. Reservations queue: the grant says how long to wait.
   */
  acquireRate(request: RateRequest): Promise<RateGrant>;
  /**
   * Optional push wake-ups (PostgreSQL: LISTEN/NOTIFY): calls `onWake` when another process
   * made runs runnable. Returns a function that stops listening. Stores without it are polled.
   */
  watch?(onWake: (wake: StoreWake) => void): () => void;

  // ---- events, signals, waits, approvals ---------------------------------------------------

  /**
   * Stores an event (idempotent on its id) and, in the same transaction, ends every open
   * event wait it matches (one per run: the earliest), making those runs runnable.
   */
  sendEvent(event: EventInput, now: number): Promise<SendEventResult>;
  /** Appends a signal to a run's buffer, or ends its earliest open wait for that signal. */
  sendSignal(
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<SignalResult>;
  /** Records a decision on the run's open approval `name`, settling it when the rules say so. */
  decide(runId: string, name: string, decision: DecisionInput, now: number): Promise<DecideResult>;
  /** Ends an open wait; returns the wait as it ended (by this call or before it), or null. */
  closeWait(
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null>;
  /** Adds approvers to an open approval (escalation). */
  addApprovers(runId: string, position: number, approvers: readonly string[]): Promise<void>;
  /**
   * Ends every open wait of a run as cancelled. A child wait's child is asked to cancel, as
   * when a child wait is withdrawn or closed, unless it is detached.
   */
  cancelWaits(runId: string, now: number): Promise<void>;
  /**
   * Asks every child of `parentId` that has not ended and is not detached to cancel (as
   * {@link cancel} does for a run that is not paused); returns their ids.
   */
  cancelChildren(parentId: string, cancellation: Cancellation, now: number): Promise<string[]>;
  /**
   * Withdraws one wait the run no longer wants (it lost `ctx.race` or another combinator):
   * it ends as cancelled, whether it was open or ended but not yet journaled, and takes no
   * later event or signal. An event or signal it had taken goes back to the run: the run's
   * earliest open wait that matches it takes it at once (returned, to be told), else the next
   * wait created that matches it. A wait whose end the run journaled is left as it ended.
   */
  withdrawWait(runId: string, position: number, now: number): Promise<WaitRef[]>;
  getWait(runId: string, position: number): Promise<WaitRecord | null>;
  /** Open approvals, oldest first, with their decisions so far. */
  listApprovals(filter: { limit: number; runId?: string }): Promise<ApprovalRecord[]>;
  /** Ended-but-unjournaled waits and cancellation requests of the given runs. */
  inbox(runIds: readonly string[]): Promise<InboxItem[]>;

  // ---- cursors: how far triggers and schedules have gone ----------------------------------

  /** A named cursor's value, or null when it was never set. */
  cursor(name: string): Promise<number | null>;
  /** Moves a cursor forward (never back); creates it at `value` when absent. */
  setCursor(name: string, value: number): Promise<void>;
  /** Events named `name` stored after position `afterPos`, in order. */
  eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]>;
  /** Position of the last stored event (0 when none). */
  lastEventPos(): Promise<number>;

  // ---- memory -------------------------------------------------------------------------------

  /**
   * Runs `body` in a write transaction of its own with memory access (writes from outside a
   * run). Reading a key locks it until the end, as in {@link transaction}. A throw of `body`
   * rolls back and is rethrown as it is.
   */
  memoryTransaction<T>(body: (memory: MemoryTx) => Promise<T>): Promise<T>;
  /** A memory key's current value, without a lock; null when it has none. */
  readMemory(namespace: string, key: string): Promise<MemoryRecord | null>;
  /** Keys of one namespace in key order (filtered by prefix and cursor, see `MemoryFilter`). */
  listMemory(filter: MemoryFilter): Promise<MemoryRecord[]>;
  /** Namespaces that hold keys, in name order. Off the hot path: it counts every key. */
  listMemoryNamespaces(): Promise<MemoryNamespaceRecord[]>;
  /** The last `limit` writes of a key, newest first (at most MEMORY_HISTORY_PER_KEY_MAX kept). */
  memoryHistory(namespace: string, key: string, limit: number): Promise<MemoryChange[]>;
  /**
   * Deletes up to `limit` keys of `namespace` last written before `updatedBefore`, with their
   * history (retention); returns how many.
   */
  deleteMemory(namespace: string, updatedBefore: number, limit: number): Promise<number>;

  // ---- retention ----------------------------------------------------------------------------

  /** Deletes up to `limit` runs that ended before `endedBefore`, with all they hold; their ids. */
  deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]>;
  /**
   * Deletes up to `limit` events received before `receivedBefore` that no run still going could
   * consume and every trigger has passed; returns how many.
   */
  deleteEvents(receivedBefore: number, limit: number): Promise<number>;
}
