// Group commit: entries of many runs queue in memory and are written in one transaction, so
// one fsync serves every run that asked for durability in the same turn of the event loop.
import type { Clock } from "../core/clock.js";
import type { NewEntry } from "../core/journal.js";
import type { NewChunk } from "../core/stream.js";
import type { WaitRequest } from "../core/run-port.js";
import type { MemoryTx } from "../core/memory.js";
import type { SqlTransaction } from "../core/types.js";
import { assert } from "../core/assert.js";
import { isEndureError } from "../core/errors.js";
import { COMMIT_BATCH_ENTRIES_MAX } from "../core/limits.js";
import type {
  CreateResult,
  RunCreate,
  RunUpdate,
  RunWrite,
  Store,
  WaitRef,
  WriteResult,
} from "../store/store.js";

/** What the committer tells its worker about runs whose writes did not land. */
export interface CommitterEvents {
  /** A write under `epoch` was refused: the run's epoch moved on (cancelled, or taken by
   * another worker, or by this one again). */
  fenced(runId: string, epoch: number): void;
  /** The store failed while committing the run's entries written under `epoch`. */
  failed(runId: string, epoch: number, error: Error): void;
  /** The store refused the run's entries written under `epoch` while it committed other
   * runs': something in them (not the store) is at fault. They were dropped. */
  poisoned(runId: string, epoch: number, error: Error): void;
  /** Output-stream parts of the run were committed (readers may look). */
  streamed?(runId: string): void;
  /** A write ended waits of other runs (a child's end, its parent's wait): tell them. */
  woke?(refs: readonly WaitRef[]): void;
  /** A write created child runs, runnable now. */
  childrenCreated?(): void;
}

interface RunQueue {
  epoch: number;
  entries: NewEntry[];
  /** Output-stream parts, committed with (after) the entries. */
  chunks: NewChunk[];
  waits: WaitRequest[];
  children: RunCreate[];
  update: RunUpdate | null;
  /** The run's parent, when it has one (see RunWrite.parentId). */
  parentId: string | undefined;
  /** Callers of durable(): resolved once these entries are committed. */
  waiters: Array<() => void>;
  /** The caller that asked for `update`, told how its write went. */
  updated: { resolve: (r: WriteResult) => void; reject: (e: Error) => void } | null;
}

interface PendingCreate {
  create: RunCreate;
  resolve: (r: CreateResult) => void;
  reject: (e: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** How a transactional step's store transaction went. `failed`: the store failed (not the
 * body); the outcome of its commit is unknown and the run must be recovered from the store. */
export type TransactionResult = WriteResult | { readonly kind: "failed" };

/** Batches run creations and journal writes into group commits. */
export class Committer {
  private queues = new Map<string, RunQueue>();
  private creates: PendingCreate[] = [];
  private readonly inflight = new Map<string, Promise<void>>();
  /** Runs with a transactional step's transaction open (their entries wait), and its end. */
  private readonly transacting = new Map<string, Promise<void>>();
  private scheduled = false;
  /** Someone waits for a commit: only then is one made (queued entries ride along free). */
  private requested = false;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly events: CommitterEvents,
    /**
     * Whether at most one run executes here now. Then no other run's writes can join a
     * commit asked for now, and it is made at once (in a microtask) instead of after a turn
     * of the event loop that lets the writes of other runs gather.
     */
    private readonly solo: () => boolean = () => false,
  ) {}

  /** Queues an entry; it is written with the next group commit (none is asked for). */
  append(runId: string, epoch: number, entry: NewEntry): void {
    this.queue(runId, epoch).entries.push(entry);
  }

  /**
   * Queues an output-stream part and asks for a commit: readers are waiting for it. It rides
   * with the run's queued entries, so a committed part never precedes what came before it.
   */
  appendChunk(runId: string, epoch: number, chunk: NewChunk): void {
    this.queue(runId, epoch).chunks.push(chunk);
    this.schedule();
  }

  /** Queues a wait to create with the run's next commit. */
  addWait(runId: string, epoch: number, wait: WaitRequest): void {
    this.queue(runId, epoch).waits.push(wait);
  }

  /** Queues a child run to create with the run's next commit (before its waits). */
  addChild(runId: string, epoch: number, child: RunCreate): void {
    this.queue(runId, epoch).children.push(child);
  }

  /** Resolves once every entry queued for the run so far is committed. */
  durable(runId: string): Promise<void> {
    const q = this.queues.get(runId);
    if (
      q !== undefined &&
      (q.entries.length > 0 ||
        q.chunks.length > 0 ||
        q.waits.length > 0 ||
        q.children.length > 0 ||
        q.update !== null)
    ) {
      return new Promise((resolve) => {
        q.waiters.push(resolve);
        this.schedule();
      });
    }
    return this.inflight.get(runId) ?? RESOLVED;
  }

  /** Writes entries and a status change for a run; resolves with whether it landed. */
  update(
    runId: string,
    epoch: number,
    entries: readonly NewEntry[],
    update: RunUpdate,
    parentId?: string,
  ): Promise<WriteResult> {
    const q = this.queue(runId, epoch);
    q.entries.push(...entries);
    if (parentId !== undefined) q.parentId = parentId;
    return new Promise((resolve, reject) => {
      q.update = update;
      q.updated = { resolve, reject };
      this.schedule();
    });
  }

  /** Creates a run in the next group commit. */
  create(create: RunCreate): Promise<CreateResult> {
    return new Promise((resolve, reject) => {
      this.creates.push({ create, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Runs a transactional step's `body`, committing the run's queued entries first, all in one
   * store transaction. The run's other entries wait until it ends, so that its journal is
   * written in one order. A throw of `body` rolls back and is rethrown, with the queued
   * entries back at the front of the queue; a failure of the store is reported as `failed`.
   */
  async transaction(
    runId: string,
    epoch: number,
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<readonly NewEntry[]>,
  ): Promise<TransactionResult> {
    // Waits and children commit with their entries through a group commit; let them go first.
    for (;;) {
      const q = this.queues.get(runId);
      if ((q?.waits.length ?? 0) === 0 && (q?.children.length ?? 0) === 0) break;
      await this.durable(runId);
    }
    let ended: () => void = () => {};
    this.transacting.set(runId, new Promise((r) => (ended = r)));
    await this.inflight.get(runId);
    const q = this.queues.get(runId);
    const before = q?.entries ?? [];
    const waiters = q?.waiters ?? [];
    if (q !== undefined) {
      q.entries = [];
      q.waiters = [];
    }
    let thrown: { error: unknown } | null = null;
    const guarded = async (tx: SqlTransaction, memory: MemoryTx): Promise<readonly NewEntry[]> => {
      try {
        return await body(tx, memory);
      } catch (e) {
        thrown = { error: e };
        throw e;
      }
    };
    try {
      const result = await this.store.transaction(runId, epoch, this.clock.now(), before, guarded);
      if (result.kind === "committed") for (const w of waiters) w();
      return result;
    } catch (e) {
      if (thrown === null) {
        this.events.failed(runId, epoch, e instanceof Error ? e : new Error(String(e)));
        return { kind: "failed" };
      }
      const back = this.queue(runId, epoch);
      back.entries.unshift(...before);
      back.waiters.unshift(...waiters);
      throw (thrown as { error: unknown }).error;
    } finally {
      this.transacting.delete(runId);
      ended();
      const left = this.queues.get(runId);
      if (left !== undefined && (left.waiters.length > 0 || left.updated !== null)) this.schedule();
    }
  }

  /** Resolves when everything queued so far has been committed (or has failed). */
  async flushAll(): Promise<void> {
    for (;;) {
      const queued =
        this.creates.length > 0 || [...this.queues.keys()].some((id) => !this.transacting.has(id));
      if (queued || this.flushing !== null) {
        this.requested = true;
        await (this.flushing ?? this.flush());
      } else if (this.transacting.size > 0) {
        await Promise.all(this.transacting.values());
      } else {
        return;
      }
    }
  }

  /** Drops a run's queued entries (the run is gone from this worker). */
  forget(runId: string): void {
    const q = this.queues.get(runId);
    if (q !== undefined && q.updated === null) this.queues.delete(runId);
  }

  private queue(runId: string, epoch: number): RunQueue {
    let q = this.queues.get(runId);
    if (q === undefined) {
      q = {
        epoch,
        entries: [],
        chunks: [],
        waits: [],
        children: [],
        update: null,
        parentId: undefined,
        waiters: [],
        updated: null,
      };
      this.queues.set(runId, q);
    }
    return q;
  }

  private schedule(): void {
    this.requested = true;
    if (this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      if (this.flushing === null) void this.flush();
    };
    if (this.creates.length === 0 && this.queues.size <= 1 && this.solo()) queueMicrotask(go);
    else setImmediate(go);
  }

  private flush(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.requested) await this.commitOne();
    };
    this.flushing = run().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async commitOne(): Promise<void> {
    this.requested = false;
    const creates = this.creates;
    this.creates = [];
    const writes: RunWrite[] = [];
    const queues: RunQueue[] = [];
    let size = creates.length;
    for (const [runId, q] of this.queues) {
      if (this.transacting.has(runId)) continue;
      const count = q.entries.length + q.chunks.length;
      if (size > 0 && size + count > COMMIT_BATCH_ENTRIES_MAX) {
        this.requested = true;
        break;
      }
      this.queues.delete(runId);
      writes.push(writeOf(runId, q));
      queues.push(q);
      size += count;
    }
    if (creates.length === 0 && writes.length === 0) return;
    for (const w of writes) checkBeforeCommit(w);
    const done = this.store.commit({
      creates: creates.map((c) => c.create),
      writes,
      now: this.clock.now(),
    });
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    for (const w of writes) this.inflight.set(w.runId, settled);
    try {
      const result = await done;
      assert(
        result.creates.length === creates.length && result.writes.length === writes.length,
        () =>
          `the store answered ${result.creates.length}/${result.writes.length} results for ` +
          `${creates.length} creations and ${writes.length} writes`,
      );
      creates.forEach((c, i) => c.resolve(result.creates[i] as CreateResult));
      writes.forEach((w, i) =>
        this.settleWrite(w.runId, queues[i] as RunQueue, result.writes[i] as WriteResult),
      );
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (creates.length + writes.length > 1) {
        await this.commitApart(creates, writes, queues);
      } else {
        for (const c of creates) c.reject(error);
        writes.forEach((w, i) => {
          queues[i]?.updated?.reject(error);
          this.events.failed(w.runId, w.epoch, error);
        });
      }
    } finally {
      for (const w of writes)
        if (this.inflight.get(w.runId) === settled) this.inflight.delete(w.runId);
    }
  }

  /**
   * A group commit failed: commit each of its parts alone, so that one run whose entries the
   * store refuses (a value it cannot keep) never stops the others. A part refused for its value
   * (value_not_serializable) while another went through is that run's fault: it is reported
   * as poisoned. When every part
   * fails, the store is down: each is reported as failed, as before.
   */
  private async commitApart(
    creates: readonly PendingCreate[],
    writes: readonly RunWrite[],
    queues: readonly RunQueue[],
  ): Promise<void> {
    const now = this.clock.now();
    let landed = 0;
    const refused: Array<() => void> = [];
    for (const c of creates) {
      try {
        const result = await this.store.commit({ creates: [c.create], writes: [], now });
        c.resolve(result.creates[0] as CreateResult);
        landed++;
      } catch (e) {
        refused.push(() => c.reject(e instanceof Error ? e : new Error(String(e))));
      }
    }
    const lone: Array<{ write: RunWrite; queue: RunQueue; error: Error }> = [];
    for (const [i, write] of writes.entries()) {
      const queue = queues[i] as RunQueue;
      try {
        const result = await this.store.commit({ creates: [], writes: [write], now });
        this.settleWrite(write.runId, queue, result.writes[0] as WriteResult);
        landed++;
      } catch (e) {
        lone.push({ write, queue, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    for (const reject of refused) reject();
    for (const { write, queue, error } of lone) {
      queue.updated?.reject(error);
      // Only a value the store refused is the run's fault; any other failure (the store went
      // away half-way through) hands the run back as before.
      if (landed > 0 && isEndureError(error, "value_not_serializable"))
        this.events.poisoned(write.runId, write.epoch, error);
      else this.events.failed(write.runId, write.epoch, error);
    }
  }

  private settleWrite(runId: string, q: RunQueue, result: WriteResult): void {
    q.updated?.resolve(result);
    if (result.kind === "committed") {
      for (const w of q.waiters) w();
      if (q.chunks.length > 0) this.events.streamed?.(runId);
      if (q.children.length > 0) this.events.childrenCreated?.();
      if (result.woken !== undefined && result.woken.length > 0) this.events.woke?.(result.woken);
    } else {
      this.events.fenced(runId, q.epoch);
    }
  }
}

/** The write of a run's queue, with only the parts it has. */
function writeOf(runId: string, q: RunQueue): RunWrite {
  const write: { -readonly [K in keyof RunWrite]: RunWrite[K] } = {
    runId,
    epoch: q.epoch,
    entries: q.entries,
    update: q.update,
    waits: q.waits,
  };
  if (q.chunks.length > 0) write.chunks = q.chunks;
  if (q.children.length > 0) write.children = q.children;
  if (q.parentId !== undefined) write.parentId = q.parentId;
  return write;
}

/** What a write must be before it goes to the store: under a claimed epoch, with entries
 * whose time and type are set. */
function checkBeforeCommit(w: RunWrite): void {
  assert(
    Number.isInteger(w.epoch) && w.epoch >= 1,
    () => `run ${w.runId} writes under epoch ${w.epoch}`,
  );
  for (const e of w.entries) {
    assert(
      typeof e.type === "string" && Number.isFinite(e.at),
      () => `run ${w.runId} queued an entry without a type or time (${String(e.type)})`,
    );
  }
}
