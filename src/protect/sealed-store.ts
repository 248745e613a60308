// A store whose payloads are sealed by a codec: every payload on its way in is sealed, every
// payload on its way out is opened, and the store reads the payloads it looks into itself
// (event data to match, approval rules) through the codec. The store below never sees a
// plaintext payload, and the engine above never sees a sealed one.
//
// Every method of the Store contract is written out here (the class implements Store), so a
// method added to the contract does not compile until it says what it does with payloads.
import {
  InvalidArgumentError,
  isEndureError,
  KeyNotFoundError,
  PayloadTamperedError,
} from "../core/errors.js";
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
  CreateResult,
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
  RunCreate,
  RunFilter,
  RunPage,
  RunRecord,
  RunUpdate,
  RunWrite,
  SendEventResult,
  SignalResult,
  Store,
  StoreWake,
  WaitRecord,
  WaitRef,
  WriteResult,
} from "../store/store.js";
import type { NewChunk, StoredChunk } from "../store/stream.js";
import { SHREDDED_TEXT } from "../core/serialize.js";
import type { RunKeyStore } from "../store/run-keys.js";
import {
  holdsDataKeyPayload,
  openWith,
  openWithin,
  runKeyCodecOf,
  SEALED_PREFIX,
  type Codec,
  type RunKeyCodec,
} from "./codec.js";
import { RunKeys } from "./run-keys.js";

/**
 * What each method of the Store contract carries in payloads: `sealed` when the wrapper seals
 * what goes in and opens what comes out, `none` when nothing it carries is a payload. Typed
 * over every key of Store, so a method added to the contract must be listed (and handled).
 */
export const STORE_PAYLOADS: { readonly [K in keyof Required<Store>]: "sealed" | "none" } = {
  dialect: "none",
  description: "none",
  open: "none",
  close: "none",
  usePayloadOpener: "none",
  runKeys: "none",
  commit: "sealed",
  transaction: "sealed",
  claim: "sealed",
  heartbeat: "none",
  getRun: "sealed",
  listRuns: "sealed",
  readJournal: "sealed",
  cancel: "sealed",
  resume: "sealed",
  retry: "sealed",
  rewind: "sealed",
  fork: "sealed",
  nextWakeAt: "none",
  writeLockHeldMs: "none",
  acquireRate: "none",
  watch: "none",
  sendEvent: "sealed",
  sendSignal: "sealed",
  decide: "sealed",
  closeWait: "sealed",
  addApprovers: "none",
  cancelWaits: "none",
  cancelChildren: "none",
  withdrawWait: "none",
  getWait: "sealed",
  listApprovals: "sealed",
  inbox: "none",
  cursor: "none",
  setCursor: "none",
  eventsAfter: "sealed",
  lastEventPos: "none",
  deleteFinishedRuns: "none",
  deleteEvents: "none",
  readStream: "sealed",
  memoryTransaction: "sealed",
  readMemory: "sealed",
  listMemory: "sealed",
  listMemoryNamespaces: "none",
  memoryHistory: "sealed",
  deleteMemory: "none",
};

/**
 * `store` with every payload sealed by `codec` on its way in and opened on its way out. The
 * engine wraps its store this way when it is given a codec.
 */
export function sealedStore(store: Store, codec: Codec): Store {
  return new SealedStore(store, codec);
}

class SealedStore implements Store {
  readonly writeLockHeldMs?: () => number;
  readonly watch?: (onWake: (wake: StoreWake) => void) => () => void;
  readonly runKeys?: RunKeyStore;
  /** Runs' data keys, when the codec gives runs keys of their own. */
  private readonly keys: RunKeys | null = null;
  private readonly keyCodec: RunKeyCodec | null;

  constructor(
    private readonly inner: Store,
    private readonly codec: Codec,
  ) {
    if (inner.writeLockHeldMs !== undefined)
      this.writeLockHeldMs = () => inner.writeLockHeldMs?.() ?? 0;
    if (inner.watch !== undefined)
      this.watch = (onWake) => inner.watch?.(onWake) ?? (() => undefined);
    this.keyCodec = runKeyCodecOf(codec);
    const runKeys = inner.runKeys;
    if (runKeys !== undefined) {
      this.runKeys = {
        ...runKeys,
        put: (keys, now) => runKeys.put(keys, now),
        read: (runIds) => runKeys.read(runIds),
        list: (after, limit) => runKeys.list(after, limit),
        rewrap: (runId, from, to) => runKeys.rewrap(runId, from, to),
        shred: async (runId, now) => {
          const result = await runKeys.shred(runId, now);
          this.keys?.forget(runId);
          return result;
        },
      };
      if (this.keyCodec !== null) this.keys = new RunKeys(runKeys, this.keyCodec);
    } else if (this.keyCodec !== null) {
      throw new InvalidArgumentError(
        `aesGcmCodec({ runKeys: true }) needs a store that keeps run keys, and ${inner.description} ` +
          "does not: use sqliteStore or postgresStore, or turn runKeys off",
      );
    }
    inner.usePayloadOpener((text) => this.openText(text));
  }

  /** Loads the data keys of runs before their payloads are sealed or (`fresh`) opened. */
  private async load(runIds: readonly string[], fresh: boolean): Promise<void> {
    if (this.keys !== null && runIds.length > 0) await this.keys.load(runIds, fresh);
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
    // The store below reads through the codec; a caller's opener reads what it would see.
    this.inner.usePayloadOpener((text) => open(this.openText(text)));
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    if (this.keys !== null) {
      // A child run created in its parent's commit gets a data key of its own too.
      const created = [
        ...batch.creates.map((c) => c.id),
        ...batch.writes.flatMap((w) => (w.children ?? []).map((c) => c.id)),
      ];
      if (created.length > 0) await this.keys.create(created, batch.now);
      await this.load(
        batch.writes.map((w) => w.runId),
        false,
      );
    }
    const sealed: CommitBatch = {
      now: batch.now,
      creates: batch.creates.map((c) => this.sealCreate(c)),
      writes: batch.writes.map((w) => this.sealWrite(w)),
    };
    const result = await this.inner.commit(sealed);
    return {
      creates: result.creates.map((c) => this.openCreate(c)),
      writes: result.writes,
    };
  }

  async transaction(
    runId: string,
    epoch: number,
    now: number,
    before: readonly NewEntry[],
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<WriteResult> {
    await this.load([runId], false);
    return this.inner.transaction(
      runId,
      epoch,
      now,
      this.sealEntries(runId, before),
      async (tx, memory) => this.sealEntries(runId, await body(tx, this.sealedMemory(memory))),
    );
  }

  async claim(request: ClaimRequest): Promise<ClaimedRun[]> {
    const claimed = await this.inner.claim(request);
    await this.load(
      claimed.map((c) => c.run.id),
      false,
    );
    return claimed.map((c) => {
      try {
        const run = this.openRun(c.run);
        return c.journal === undefined
          ? { run, takeover: c.takeover }
          : { run, takeover: c.takeover, journal: this.openJournal(c.journal) };
      } catch (e) {
        if (!isUnreadable(e)) throw e;
        // Only this run cannot be read: the worker reads its journal itself, meets the error
        // there and pauses the run; the other runs of the batch go on.
        return { run: c.run, takeover: c.takeover };
      }
    });
  }

  heartbeat(
    workerId: string,
    held: readonly { runId: string; epoch: number }[],
    leaseMs: number,
    now: number,
  ): Promise<string[]> {
    return this.inner.heartbeat(workerId, held, leaseMs, now);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    await this.load([runId], true);
    const run = await this.inner.getRun(runId);
    return run === null ? null : this.openRun(run);
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    const page = await this.inner.listRuns(filter);
    await this.load(
      page.runs.map((r) => r.id),
      true,
    );
    return { runs: page.runs.map((r) => this.openRun(r)), next: page.next };
  }

  async readJournal(runId: string, range?: JournalRange): Promise<JournalEntry[]> {
    await this.load([runId], true);
    return this.openJournal(await this.inner.readJournal(runId, range));
  }

  async cancel(
    runId: string,
    cancellation: { cancellation: Cancellation; entry: NewEntry; error: string },
    now: number,
  ): Promise<CancelResult> {
    await this.load([runId], true);
    const result = await this.inner.cancel(
      runId,
      {
        cancellation: cancellation.cancellation,
        entry: this.sealEntry(runId, cancellation.entry),
        error: this.seal(runId, cancellation.error),
      },
      now,
    );
    return result.kind === "not_found" ? result : { ...result, run: this.openRun(result.run) };
  }

  async resume(...[runId, entry, ...rest]: Parameters<Store["resume"]>): Promise<ResumeResult> {
    await this.keys?.checkNotShredded(runId, "resume");
    return this.openResume(await this.inner.resume(runId, this.sealEntry(runId, entry), ...rest));
  }

  async retry(runId: string, entry: NewEntry, now: number): Promise<ResumeResult> {
    await this.keys?.checkNotShredded(runId, "retry");
    return this.openResume(await this.inner.retry(runId, this.sealEntry(runId, entry), now));
  }

  async rewind(
    runId: string,
    request: { readonly entry: NewEntry; readonly fromPosition: number },
    now: number,
  ): Promise<ResumeResult> {
    await this.keys?.checkNotShredded(runId, "rewind");
    await this.load([runId], false);
    const sealed = { ...request, entry: this.sealEntry(runId, request.entry) };
    return this.openResume(await this.inner.rewind(runId, sealed, now));
  }

  async fork(create: RunCreate, entries: readonly NewEntry[], now: number): Promise<CreateResult> {
    if (this.keys !== null) await this.keys.create([create.id], now);
    const result = await this.inner.fork(
      {
        ...create,
        input: this.seal(create.id, create.input),
        started: this.sealEntry(create.id, create.started),
      },
      this.sealEntries(create.id, entries),
      now,
    );
    return { ...result, run: this.openRun(result.run) };
  }

  nextWakeAt(): Promise<number | null> {
    return this.inner.nextWakeAt();
  }

  acquireRate(request: RateRequest): Promise<RateGrant> {
    return this.inner.acquireRate(request);
  }

  async sendEvent(event: EventInput, now: number): Promise<SendEventResult> {
    // An event is no run's: it is sealed under the ring's key.
    const result = await this.inner.sendEvent({ ...event, data: this.seal(null, event.data) }, now);
    return { ...result, event: this.openEvent(result.event) };
  }

  async sendSignal(
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<SignalResult> {
    await this.load([runId], false);
    const result = await this.inner.sendSignal(
      runId,
      { name: signal.name, data: this.seal(runId, signal.data) },
      now,
    );
    return result.kind === "finished" ? { ...result, run: this.openRun(result.run) } : result;
  }

  async decide(
    runId: string,
    name: string,
    decision: DecisionInput,
    now: number,
  ): Promise<DecideResult> {
    await this.load([runId], true);
    const comment =
      decision.comment === null ? null : this.seal(runId, JSON.stringify(decision.comment));
    const result = await this.inner.decide(runId, name, { ...decision, comment }, now);
    return result.kind === "not_found" ? result : { ...result, wait: this.openWait(result.wait) };
  }

  async closeWait(
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null> {
    await this.load([runId], false);
    const sealed: WaitClosure =
      closure.status === "resolved" && closure.value !== null
        ? { ...closure, value: this.seal(runId, closure.value) }
        : closure;
    const wait = await this.inner.closeWait(runId, position, sealed, now);
    return wait === null ? null : this.openWait(wait);
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
    // The store hands a taken event or signal back as it stored it (sealed).
    return this.inner.withdrawWait(runId, position, now);
  }

  async getWait(runId: string, position: number): Promise<WaitRecord | null> {
    await this.load([runId], true);
    const wait = await this.inner.getWait(runId, position);
    return wait === null ? null : this.openWait(wait);
  }

  async listApprovals(filter: { limit: number; runId?: string }): Promise<ApprovalRecord[]> {
    const approvals = await this.inner.listApprovals(filter);
    await this.load(
      approvals.map((a) => a.wait.runId),
      true,
    );
    return approvals.map((a) => ({
      ...a,
      wait: this.openWait(a.wait),
      decisions: a.decisions.map((d) => ({
        ...d,
        comment: d.comment === null ? null : this.openComment(a.wait.runId, d.comment),
      })),
    }));
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

  async eventsAfter(name: string, afterPos: number, limit: number): Promise<EventRecord[]> {
    const events = await this.inner.eventsAfter(name, afterPos, limit);
    return events.map((e) => this.openEvent(e));
  }

  lastEventPos(): Promise<number> {
    return this.inner.lastEventPos();
  }

  deleteFinishedRuns(endedBefore: number, limit: number): Promise<string[]> {
    return this.inner.deleteFinishedRuns(endedBefore, limit);
  }

  deleteEvents(receivedBefore: number, limit: number): Promise<number> {
    return this.inner.deleteEvents(receivedBefore, limit);
  }

  async readStream(runId: string, fromOffset: number, limit: number): Promise<StoredChunk[]> {
    await this.load([runId], true);
    const chunks = await this.inner.readStream(runId, fromOffset, limit);
    return chunks.map((c) => ({
      ...c,
      data: this.openAs(runId, c.data, () => `part ${c.offset} of run '${runId}'s output stream`),
    }));
  }

  memoryTransaction<T>(body: (memory: MemoryTx) => Promise<T>): Promise<T> {
    return this.inner.memoryTransaction((memory) => body(this.sealedMemory(memory)));
  }

  async readMemory(namespace: string, key: string): Promise<MemoryRecord | null> {
    const record = await this.inner.readMemory(namespace, key);
    return record === null ? null : this.openMemory(record);
  }

  async listMemory(filter: MemoryFilter): Promise<MemoryRecord[]> {
    return (await this.inner.listMemory(filter)).map((r) => this.openMemory(r));
  }

  listMemoryNamespaces(): Promise<MemoryNamespaceRecord[]> {
    return this.inner.listMemoryNamespaces();
  }

  async memoryHistory(namespace: string, key: string, limit: number): Promise<MemoryChange[]> {
    return (await this.inner.memoryHistory(namespace, key, limit)).map((c) => this.openMemory(c));
  }

  deleteMemory(namespace: string, updatedBefore: number, limit: number): Promise<number> {
    return this.inner.deleteMemory(namespace, updatedBefore, limit);
  }

  // ---- sealing ---------------------------------------------------------------------------

  /** Memory inside a transaction, with values sealed on write and opened on read. */
  private sealedMemory(memory: MemoryTx): MemoryTx {
    return {
      read: async (namespace, key) => {
        const record = await memory.read(namespace, key);
        return record === null ? null : this.openMemory(record);
      },
      write: async (write) =>
        this.openMemory(await memory.write({ ...write, value: this.seal(null, write.value) })),
    };
  }

  private openMemory<R extends MemoryRecord | MemoryChange>(record: R): R {
    return {
      ...record,
      value: this.openAs(
        null,
        record.value,
        () => `the value of memory '${record.namespace}' key '${record.key}'`,
      ),
    };
  }

  /** Seals `text` under the run's data key, or the ring's key (no run, or a run without one). */
  private seal(runId: string | null, text: string): string {
    if (this.keys === null || this.keyCodec === null || runId === null)
      return this.codec.seal(text);
    const state = this.keys.stateOf(runId);
    if (state.kind === "key") return this.keyCodec.sealWith(state.key, text);
    // Written into a shredded run: under a key nobody keeps, unreadable like the rest of it.
    if (state.kind === "shredded")
      return this.keyCodec.sealWith(this.keyCodec.createDataKey().key, text);
    return this.codec.seal(text);
  }

  private sealEntry(runId: string, entry: NewEntry): NewEntry {
    return entry.data === null ? entry : { ...entry, data: this.seal(runId, entry.data) };
  }

  private sealEntries(runId: string, entries: readonly NewEntry[]): NewEntry[] {
    return entries.map((e) => this.sealEntry(runId, e));
  }

  private sealCreate(create: RunCreate): RunCreate {
    return {
      ...create,
      input: this.seal(create.id, create.input),
      started: this.sealEntry(create.id, create.started),
    };
  }

  private sealWrite(write: RunWrite): RunWrite {
    const sealed: {
      -readonly [K in keyof RunWrite]: RunWrite[K];
    } = {
      runId: write.runId,
      epoch: write.epoch,
      entries: this.sealEntries(write.runId, write.entries),
      update: write.update === null ? null : this.sealUpdate(write.runId, write.update),
    };
    if (write.chunks !== undefined)
      sealed.chunks = write.chunks.map((c) => this.sealChunk(write.runId, c));
    if (write.waits !== undefined) {
      sealed.waits = write.waits.map((w) =>
        w.details === null ? w : { ...w, details: this.seal(write.runId, w.details) },
      );
    }
    if (write.children !== undefined)
      sealed.children = write.children.map((c) => this.sealCreate(c));
    if (write.parentId !== undefined) sealed.parentId = write.parentId;
    return sealed;
  }

  private sealUpdate(runId: string, update: RunUpdate): RunUpdate {
    switch (update.status) {
      case "completed":
        return { ...update, output: this.seal(runId, update.output) };
      case "failed":
      case "cancelled":
      case "timed_out":
        return { ...update, error: this.seal(runId, update.error) };
      default:
        return update;
    }
  }

  private sealChunk(runId: string, chunk: NewChunk): NewChunk {
    return { ...chunk, data: this.seal(runId, chunk.data) };
  }

  // ---- opening ---------------------------------------------------------------------------

  /** Opens `text` with any key it may be sealed with (what the store below reads itself). */
  private openText(text: string): string {
    return this.keys === null
      ? this.codec.open(text)
      : openWith(this.codec, text, this.keys.lookup);
  }

  /**
   * Opens `text`, a payload of run `runId` (null: of no run), naming `what()` in the error
   * when it cannot be read. A payload sealed under the key of a shredded run reads as
   * SHREDDED_TEXT.
   */
  private openAs(runId: string | null, text: string, what: () => string, within = false): string {
    const keys = this.keys;
    if (keys === null) return this.openChecked(text, what, within, undefined);
    if (runId !== null && keys.stateOf(runId).kind === "shredded" && holdsDataKeyPayload(text))
      return SHREDDED_TEXT;
    return this.openChecked(text, what, within, keys);
  }

  private openChecked(
    text: string,
    what: () => string,
    within: boolean,
    keys: RunKeys | undefined,
  ): string {
    try {
      if (keys === undefined) return within ? openWithin(this.codec, text) : this.codec.open(text);
      return within
        ? openWithin(this.codec, text, keys.lookup)
        : openWith(this.codec, text, keys.lookup);
    } catch (e) {
      if (isEndureError(e, "key_not_found"))
        throw new KeyNotFoundError(`${what()}: ${e.message}`, { cause: e });
      if (isEndureError(e, "payload_tampered"))
        throw new PayloadTamperedError(`${what()}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  private openRun(run: RunRecord): RunRecord {
    const what = (field: string) => () => `the ${field} of run '${run.id}'`;
    return {
      ...run,
      input: this.openAs(run.id, run.input, what("input")),
      output: run.output === null ? null : this.openAs(run.id, run.output, what("output")),
      error: run.error === null ? null : this.openAs(run.id, run.error, what("error")),
    };
  }

  private openJournal(journal: readonly JournalEntry[]): JournalEntry[] {
    return journal.map((e) =>
      e.data === null
        ? e
        : {
            ...e,
            data: this.openAs(
              e.runId,
              e.data,
              () =>
                `journal entry ${e.seq} (${e.type}${e.key === null ? "" : ` '${e.key}'`}) of run '${e.runId}'`,
            ),
          },
    );
  }

  private openCreate(result: CreateResult): CreateResult {
    return { ...result, run: this.openRun(result.run) };
  }

  private openResume(result: ResumeResult): ResumeResult {
    return result.kind === "not_found" ? result : { ...result, run: this.openRun(result.run) };
  }

  private openEvent(event: EventRecord): EventRecord {
    return {
      ...event,
      data: this.openAs(null, event.data, () => `the data of event '${event.id}'`),
    };
  }

  private openWait(wait: WaitRecord): WaitRecord {
    const what = (field: string) => () =>
      `the ${field} of wait '${wait.key}' (position ${wait.position}) of run '${wait.runId}'`;
    return {
      ...wait,
      details:
        wait.details === null ? null : this.openAs(wait.runId, wait.details, what("details")),
      value: wait.value === null ? null : this.openAs(wait.runId, wait.value, what("value"), true),
    };
  }

  private openComment(runId: string, comment: string): string {
    // A comment recorded before the codec was configured is plain text.
    if (!comment.startsWith(SEALED_PREFIX)) return comment;
    const text = this.openAs(runId, comment, () => "an approval comment");
    return text === SHREDDED_TEXT ? text : (JSON.parse(text) as string);
  }
}

function isUnreadable(e: unknown): boolean {
  return isEndureError(e, "key_not_found") || isEndureError(e, "payload_tampered");
}
