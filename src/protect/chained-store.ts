// A store whose journal entries carry a hash chain (see ./hash-chain.ts). Every engine reads
// through it, so that envelopes written by a chaining engine never reach decoding; an engine
// with `hashChain: true` also chains what it writes. The hash of a run's last entry is kept
// for runs this process writes (a run's writer holds its lease, so no other process appends
// meanwhile); on a miss it is read from the journal.
import { RunNotFoundError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import type { MemoryChange, MemoryRecord, MemoryTx } from "../core/memory.js";
import type { WaitClosure } from "../core/run-port.js";
import type { Cancellation, SqlTransaction } from "../core/types.js";
import type {
  ApprovalRecord,
  CancelResult,
  ClaimedRun,
  ClaimRequest,
  CommitBatch,
  CommitResult,
  DecideResult,
  DecisionInput,
  EventInput,
  EventRecord,
  InboxItem,
  JournalRange,
  MemoryFilter,
  MemoryNamespaceRecord,
  PayloadOpener,
  RateGrant,
  RateRequest,
  ResumeResult,
  CreateResult,
  RunCreate,
  RunFilter,
  RunPage,
  RunRecord,
  RunWrite,
  SendEventResult,
  SignalResult,
  Store,
  StoreWake,
  WaitRecord,
  WaitRef,
  WriteResult,
} from "../store/store.js";
import type { RunKeyStore } from "../store/run-keys.js";
import type { StoredChunk } from "../store/stream.js";
import {
  chained,
  chainHead,
  creationHash,
  entryHash,
  unchained,
  verifyChain,
  type VerifyReport,
} from "./hash-chain.js";

/** Runs whose last hash is kept in memory at once: 10,000. Past it the oldest is dropped (and
 * read again from its journal when the run next writes). */
export const CHAIN_HEADS_MAX = 10_000;

/** `store` reading chain envelopes off; chaining entries it writes when `chain` is true. */
export function chainedStore(
  store: Store,
  chain: boolean,
  headsMax = CHAIN_HEADS_MAX,
): ChainedStore {
  return new ChainedStore(store, chain, headsMax);
}

export class ChainedStore implements Store {
  readonly writeLockHeldMs?: () => number;
  readonly watch?: (onWake: (wake: StoreWake) => void) => () => void;
  readonly runKeys?: RunKeyStore;
  /** The last hash of runs this process writes. */
  private readonly heads = new Map<string, string>();

  constructor(
    private readonly inner: Store,
    private readonly chain: boolean,
    private readonly headsMax = CHAIN_HEADS_MAX,
  ) {
    if (inner.writeLockHeldMs !== undefined)
      this.writeLockHeldMs = () => inner.writeLockHeldMs?.() ?? 0;
    if (inner.watch !== undefined)
      this.watch = (onWake) => inner.watch?.(onWake) ?? (() => undefined);
    if (inner.runKeys !== undefined) this.runKeys = inner.runKeys;
  }

  get dialect(): Store["dialect"] {
    return this.inner.dialect;
  }

  get description(): string {
    return this.inner.description;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  usePayloadOpener(open: PayloadOpener): void {
    this.inner.usePayloadOpener(open);
  }

  /** How many runs' last hashes are kept now (at most `headsMax`). */
  get headsKept(): number {
    return this.heads.size;
  }

  /** Checks the run's journal as stored against its hash chain. */
  async verify(runId: string): Promise<VerifyReport> {
    const run = await this.inner.getRun(runId);
    if (run === null) throw new RunNotFoundError(`no run with id '${runId}'`);
    return verifyChain(run, await this.inner.readJournal(runId));
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    if (!this.chain) return this.inner.commit(batch);
    const creates = batch.creates.map((c) => this.chainCreate(c));
    const writes: RunWrite[] = [];
    for (const w of batch.writes) {
      if (w.entries.length === 0) {
        writes.push(w);
        continue;
      }
      const { entries, head } = this.chainEntries(await this.headOf(w.runId), w.entries);
      const children = w.children?.map((c) => this.chainCreate(c).create);
      writes.push(children === undefined ? { ...w, entries } : { ...w, entries, children });
      this.remember(w.runId, head);
    }
    let result: CommitResult;
    try {
      result = await this.inner.commit({ ...batch, creates: creates.map((c) => c.create), writes });
    } catch (e) {
      for (const w of batch.writes) this.heads.delete(w.runId);
      for (const c of batch.creates) this.heads.delete(c.id);
      throw e;
    }
    result.creates.forEach((r, i) => {
      const c = creates[i];
      if (c === undefined) return;
      if (r.created) this.remember(c.create.id, c.head);
      else this.heads.delete(c.create.id);
    });
    result.writes.forEach((r, i) => {
      const w = batch.writes[i];
      if (w === undefined) return;
      // A run handed back, evicted or ended is claimed again before it writes: the claim
      // reads its head then.
      if (r.kind === "fenced" || w.update !== null) this.heads.delete(w.runId);
    });
    return result;
  }

  async transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    if (!this.chain) return this.inner.transaction(runId, epoch, now, before, body);
    const first = this.chainEntries(await this.headOf(runId), before);
    let head = first.head;
    try {
      const result = await this.inner.transaction(
        runId,
        epoch,
        now,
        first.entries,
        async (tx, m) => {
          const more = this.chainEntries(first.head, await body(tx, m));
          head = more.head;
          return more.entries;
        },
      );
      if (result.kind === "committed") this.remember(runId, head);
      else this.heads.delete(runId);
      return result;
    } catch (e) {
      this.heads.delete(runId);
      throw e;
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    const claimed = await this.inner.claim(request);
    return Promise.all(
      claimed.map(async (c) => {
        if (!this.chain) return c.journal === undefined ? c : { ...c, journal: unwrap(c.journal) };
        // The claim fences every other writer: the journal read now ends where this worker's
        // chain goes on. Read here when the store did not, and handed to the worker with it.
        const journal = c.journal ?? (await this.inner.readJournal(c.run.id, "segment"));
        // A newest segment whose last entry carries no hash (written without a chain): the
        // head is worked out from the whole journal.
        const last = journal[journal.length - 1];
        const whole =
          journal[0]?.type === "run_continued" && unchained(last?.data ?? null).hash === null
            ? await this.inner.readJournal(c.run.id)
            : journal;
        this.remember(c.run.id, chainHead(c.run, whole));
        return { ...c, journal: unwrap(journal) };
      }),
    );
  }

  heartbeat(
    workerId: string,
    held: readonly { runId: string; epoch: number }[],
    leaseMs: number,
    now: number,
  ): Promise<string[]> {
    return this.inner.heartbeat(workerId, held, leaseMs, now);
  }

  getRun(runId: string): Promise<RunRecord | null> {
    return this.inner.getRun(runId);
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return this.inner.listRuns(filter);
  }

  async readJournal(runId: string, range?: JournalRange): Promise<JournalEntry[]> {
    return unwrap(await this.inner.readJournal(runId, range));
  }

  async cancel(
    runId: string,
    cancellation: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult> {
    if (!this.chain) return this.inner.cancel(runId, cancellation, now);
    // Appended only to a paused run, which no worker holds: its journal's end is read here.
    const [entry] = this.chainEntries(await this.readHead(runId), [cancellation.entry]).entries;
    this.heads.delete(runId);
    return this.inner.cancel(runId, { ...cancellation, entry: entry ?? cancellation.entry }, now);
  }

  async resume(...[runId, entry, ...rest]: Parameters<Store["resume"]>): Promise<ResumeResult> {
    if (!this.chain) return this.inner.resume(runId, entry, ...rest);
    const [sealed] = this.chainEntries(await this.readHead(runId), [entry]).entries;
    this.heads.delete(runId);
    return this.inner.resume(runId, sealed ?? entry, ...rest);
  }

  async retry(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    if (!this.chain) return this.inner.retry(runId, entry, now);
    const [sealed] = this.chainEntries(await this.readHead(runId), [entry]).entries;
    this.heads.delete(runId);
    return this.inner.retry(runId, sealed ?? entry, now);
  }

  async rewind(
    runId: string,
    request: { readonly entry: NewEntry; readonly fromPosition: number },
    now: number,
  ): Promise<ResumeResult> {
    if (!this.chain) return this.inner.rewind(runId, request, now);
    const [sealed] = this.chainEntries(await this.readHead(runId), [request.entry]).entries;
    this.heads.delete(runId);
    return this.inner.rewind(runId, { ...request, entry: sealed ?? request.entry }, now);
  }

  async fork(create: RunCreate, entries: readonly NewEntry[], now: number): Promise<CreateResult> {
    if (!this.chain) return this.inner.fork(create, entries, now);
    const first = this.chainCreate(create);
    const rest = this.chainEntries(first.head, entries).entries;
    this.heads.delete(create.id);
    return this.inner.fork(first.create, rest, now);
  }

  nextWakeAt(): Promise<number | null> {
    return this.inner.nextWakeAt();
  }

  acquireRate(request: RateRequest): Promise<RateGrant> {
    return this.inner.acquireRate(request);
  }

  sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    return this.inner.sendEvent(event, now);
  }

  sendSignal(
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<SignalResult> {
    return this.inner.sendSignal(runId, signal, now);
  }

  decide(runId: string, name: string, decision: DecisionInput, now: number): Promise<DecideResult> {
    return this.inner.decide(runId, name, decision, now);
  }

  closeWait(
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null> {
    return this.inner.closeWait(runId, position, closure, now);
  }

  addApprovers(runId: string, position: number, approvers: readonly string[]): Promise<void> {
    return this.inner.addApprovers(runId, position, approvers);
  }

  cancelWaits(runId: string, now: number): Promise<void> {
    return this.inner.cancelWaits(runId, now);
  }

  cancelChildren(parentId: string, cancellation: Cancellation, now: number): Promise<string[]> {
    return this.inner.cancelChildren(parentId, cancellation, now);
  }

  withdrawWait(runId: string, position: number, now: number): Promise<WaitRef[]> {
    return this.inner.withdrawWait(runId, position, now);
  }

  getWait(runId: string, position: number): Promise<WaitRecord | null> {
    return this.inner.getWait(runId, position);
  }

  listApprovals(filter: { limit: number; runId?: string }): Promise<ApprovalRecord[]> {
    return this.inner.listApprovals(filter);
  }

  inbox(runIds: readonly string[]): Promise<InboxItem[]> {
    return this.inner.inbox(runIds);
  }

  cursor(name: string): Promise<number | null> {
    return this.inner.cursor(name);
  }

  setCursor(name: string, value: number): Promise<void> {
    return this.inner.setCursor(name, value);
  }

  eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]> {
    return this.inner.eventsAfter(name, afterPos, limit);
  }

  lastEventPos(): Promise<number> {
    return this.inner.lastEventPos();
  }

  async deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]> {
    const ids = await this.inner.deleteFinishedRuns(endedBefore, limit);
    for (const id of ids) this.heads.delete(id);
    return ids;
  }

  deleteEvents(receivedBefore: number, limit: number): Promise<number> {
    return this.inner.deleteEvents(receivedBefore, limit);
  }

  readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]> {
    return this.inner.readStream(runId, fromOffset, limit);
  }

  memoryTransaction<T>(body: (memory: MemoryTx) => Promise<T>): Promise<T> {
    return this.inner.memoryTransaction(body);
  }

  readMemory(namespace: string, key: string): Promise<MemoryRecord | null> {
    return this.inner.readMemory(namespace, key);
  }

  listMemory(filter: MemoryFilter): Promise<MemoryRecord[]> {
    return this.inner.listMemory(filter);
  }

  listMemoryNamespaces(): Promise<MemoryNamespaceRecord[]> {
    return this.inner.listMemoryNamespaces();
  }

  memoryHistory(namespace: string, key: string, limit: number): Promise<MemoryChange[]> {
    return this.inner.memoryHistory(namespace, key, limit);
  }

  deleteMemory(namespace: string, updatedBefore: number, limit: number): Promise<number> {
    return this.inner.deleteMemory(namespace, updatedBefore, limit);
  }

  // ---- chaining --------------------------------------------------------------------------

  private chainCreate(create: RunCreate): { create: RunCreate; head: string } {
    const { entries, head } = this.chainEntries(creationHash(create), [create.started]);
    return { create: { ...create, started: entries[0] ?? create.started }, head };
  }

  private chainEntries(
    previous: string,
    entries: readonly NewEntry[],
  ): { entries: NewEntry[]; head: string } {
    let head = previous;
    const out = entries.map((e) => {
      head = entryHash(head, e);
      return { ...e, data: chained(head, e.data) };
    });
    return { entries: out, head };
  }

  private async headOf(runId: string): Promise<string> {
    return this.heads.get(runId) ?? this.readHead(runId);
  }

  private async readHead(runId: string): Promise<string> {
    const [run, journal] = await Promise.all([
      this.inner.getRun(runId),
      this.inner.readJournal(runId),
    ]);
    // A run that does not exist writes nothing (the store reports it); any head will do.
    return run === null ? "" : chainHead(run, journal);
  }

  private remember(runId: string, head: string): void {
    this.heads.delete(runId);
    this.heads.set(runId, head);
    if (this.heads.size > this.headsMax) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }
}

function unwrap(journal: readonly JournalEntry[]): JournalEntry[] {
  return journal.map((e) => {
    const { hash, data } = unchained(e.data);
    return hash === null ? e : { ...e, data };
  });
}
