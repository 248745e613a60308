// The worker: claims runnable runs from the store under a lease, hosts them in memory,
// renews its leases, wakes evicted runs when their timers are due, and hands runs back on close.
import { assert } from "../core/assert.js";
import { heartbeatIntervalMs } from "../core/limits.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import { isEndureError, LeaseLostError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import type { RunExecution } from "../core/run-execution.js";
import type { RunLimits } from "../core/run-port.js";
import { entryData, withSpan } from "../core/entry-data.js";
import { decodeValue } from "../core/serialize.js";
import { latestSegment, segmentInput } from "../core/segments.js";
import type { Workflow } from "../core/workflow.js";
import type { Cancellation } from "../core/types.js";
import type { ClaimedRun, RunRecord, Store, StoreWake, WaitRef } from "../store/store.js";
import { childRunCreate, resolveChild, type WorkerRegistry } from "./children.js";
import { Committer } from "./committer.js";
import { guardedObserver, type HostedHow, type RunObserver } from "./observer.js";
import { RunHost, type RunExit } from "./run-host.js";
import { Starters } from "./starters.js";

/** Most runs claimed in one query. */
const CLAIM_BATCH_RUNS_MAX = 256;

/** Longest pause between claim attempts while the store fails, in ms: 5 s. The pause starts
 * at twice the poll interval and doubles with each failure in a row. */
export const STORE_BACKOFF_MS_MAX = 5_000;

/** The pause before claiming again after `failures` failed rounds in a row (at least 1). */
export function storeBackoffMs(pollIntervalMs: number, failures: number): number {
  return Math.min(STORE_BACKOFF_MS_MAX, pollIntervalMs * 2 ** Math.min(failures, 30));
}

/** Settings of a worker, all with defaults in `core/limits.ts`. */
export interface WorkerSettings {
  readonly workerId: string;
  readonly runsMax: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly inMemoryWaitMs: number;
  readonly poisonRecoveriesMax: number;
  readonly closeGraceMs: number;
  readonly waitTimeoutMsDefault: number;
  /** How long a run pinned to a version this worker lacks may stay runnable, for a worker
   * that has it, before this worker pauses it as `version_missing`. */
  readonly versionGraceMs: number;
}

/** How a worker reports what happens to runs, and logs. */
export interface WorkerEvents {
  exited(runId: string, exit: RunExit): void;
  warn(message: string): void;
  /** Output-stream parts of the run were committed. */
  streamed?(runId: string): void;
  /** Who watches the runs (logs, traces, metrics); its throws are caught. */
  observer?: RunObserver;
}

/** Claims and executes runs of the registered workflows. */
export class Worker {
  readonly committer: Committer;
  private readonly starters: Starters;
  private readonly hosts = new Map<string, RunHost>();
  private closing = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private kicked = false;
  private wakeTimer: { at: number; handle: TimerHandle } | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private inboxTimer: NodeJS.Timeout | null = null;
  /** Runs dropped after a failed commit, with their epoch: handed back once the store works. */
  private readonly orphans = new Map<string, number>();
  /** Concurrency limits of the registered workflows, by name. */
  private readonly concurrency: Record<string, number> = {};
  private unwatch: (() => void) | null = null;
  /** Store failures in a row in the claim loop, for backoff. */
  private failuresInRow = 0;
  /** When this worker's claims last looked for orphaned and versionless runs
   * (performance.now(): a cost in real time, whatever the engine's clock). */
  private sweptAtMs = Number.NEGATIVE_INFINITY;
  private readonly observer: RunObserver | null;
  /** By name, the version new runs take. */
  private readonly workflows: ReadonlyMap<string, Workflow<unknown, unknown>>;
  /** The versions a claim asks for, by workflow name. */
  private readonly claimVersions: Readonly<Record<string, readonly (string | null)[]>>;

  constructor(
    private readonly store: Store,
    private readonly registry: WorkerRegistry,
    private readonly clock: Clock,
    private readonly limits: RunLimits,
    readonly settings: WorkerSettings,
    private readonly events: WorkerEvents,
  ) {
    this.observer = events.observer === undefined ? null : guardedObserver(events.observer);
    const workflows = registry.defaults;
    this.workflows = workflows;
    this.claimVersions = Object.fromEntries(
      [...registry.versions].map(([name, byVersion]) => [name, [...byVersion.keys()]]),
    );
    this.committer = new Committer(
      store,
      clock,
      {
        fenced: (runId, epoch) =>
          this.leaseLost(
            runId,
            epoch,
            new LeaseLostError(
              `run ${runId} was taken over or cancelled; worker ${settings.workerId} stops ` +
                "executing it, and its late writes were refused",
            ),
          ),
        failed: (runId, epoch, error) => this.storeFailed(runId, epoch, error),
        poisoned: (runId, epoch, error) => void this.commitRefused(runId, epoch, error),
        streamed: (runId) => events.streamed?.(runId),
        woke: (refs) => this.woke(refs),
        childrenCreated: () => this.kick(),
      },
      () => this.hosts.size <= 1,
    );
    for (const [name, wf] of workflows) {
      const limit = wf.options.concurrency?.limit;
      if (limit !== undefined) this.concurrency[name] = limit;
    }
    this.starters = new Starters(workflows.values(), {
      store,
      clock,
      create: async (create) => {
        const result = await this.committer.create(create);
        if (result.created) this.observer?.runCreated(create.workflow);
        return result;
      },
      started: () => this.kick(),
      warn: (m) => events.warn(m),
    });
  }

  /** Starts claiming: first recovers runs left unfinished, then polls and listens for wake-ups. */
  async start(): Promise<void> {
    await this.starters.open();
    this.unwatch = this.store.watch?.((wake) => this.onWake(wake)) ?? null;
    // Take back this worker id's unfinished runs before the engine starts any: a run started
    // here must never look like one this worker left behind. If the store fails now, the loop
    // tries again (and a run claimed twice here goes on under its newer epoch).
    let recovered = false;
    try {
      await this.claimOnce(true);
      recovered = true;
    } catch {
      // The loop reports store failures and backs off.
    }
    this.loopDone = this.loop(!recovered);
    const beat = heartbeatIntervalMs(this.settings.leaseMs);
    assert(
      beat < this.settings.leaseMs,
      () => `heartbeat ${beat} ms >= lease ${this.settings.leaseMs} ms`,
    );
    this.heartbeat = setInterval(() => void this.renewLeases(), beat);
    this.heartbeat.unref();
    this.inboxTimer = setInterval(() => void this.readInbox(), this.settings.pollIntervalMs);
    this.inboxTimer.unref();
  }

  /** Runs executing in memory now. */
  get runsInMemory(): number {
    return this.hosts.size;
  }

  /** Failed claim rounds in a row (0 while the store works), and whether it is closing. */
  get state(): { readonly storeFailuresInRow: number; readonly closing: boolean } {
    return { storeFailuresInRow: this.failuresInRow, closing: this.closing };
  }

  /** Free places for runs in memory. */
  get capacity(): number {
    return this.closing ? 0 : this.settings.runsMax - this.hosts.size;
  }

  /** Whether this worker executes the run right now. */
  holds(runId: string): boolean {
    return this.hosts.has(runId);
  }

  /** The execution of a run this worker holds in memory, or null. */
  execution(runId: string): RunExecution | null {
    return this.hosts.get(runId)?.execution ?? null;
  }

  /** Asks the loop to look for work now (a run was started or woken). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** An event was stored: looks for work now when it starts runs of this worker's workflows. */
  eventStored(name: string): void {
    if (this.starters.triggers(name)) this.kick();
  }

  /** Hosts a run this worker created already claimed (no claim round trip). */
  adoptNew(run: RunRecord, started: NewEntry): void {
    this.host(run, [{ ...started, seq: 1, runId: run.id }], null, "started", 0);
  }

  /** Tells a run this worker executes that it was asked to cancel. */
  cancelLocal(runId: string, cancellation: Cancellation): void {
    this.hosts.get(runId)?.requestCancel(cancellation);
  }

  /** Waits ended (an event, a signal, a decision): tell the runs held here, wake the others. */
  woke(refs: readonly WaitRef[]): void {
    let elsewhere = false;
    for (const ref of refs) {
      const host = this.hosts.get(ref.runId);
      if (host !== undefined) void host.waitEnded(ref.position);
      else elsewhere = true;
    }
    if (elsewhere) this.kick();
  }

  /** Tells the worker an evicted run wakes at `wakeAt`. */
  noteWake(wakeAt: number): void {
    if (this.wakeTimer !== null && this.wakeTimer.at <= wakeAt) return;
    this.wakeTimer?.handle.cancel();
    const handle = this.clock.setTimer(Math.max(0, wakeAt - this.clock.now()), () => {
      this.wakeTimer = null;
      this.kick();
    });
    this.wakeTimer = { at: wakeAt, handle };
  }

  /** Graceful stop: no new claims, running bodies finish (within the grace), runs handed back. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unwatch?.();
    this.kick();
    await this.loopDone;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    if (this.inboxTimer !== null) clearInterval(this.inboxTimer);
    this.starters.close();
    this.wakeTimer?.handle.cancel();
    await Promise.all([...this.hosts.values()].map((h) => h.handBack(this.settings.closeGraceMs)));
    await this.committer.flushAll();
  }

  private async loop(recoveringFirst: boolean): Promise<void> {
    let recovering = recoveringFirst;
    while (!this.closing) {
      let full = false;
      try {
        await this.handBackOrphans();
        await this.starters.startTriggered();
        full = await this.claimOnce(recovering);
        recovering = false;
        const next = await this.store.nextWakeAt();
        if (next !== null) this.noteWake(next);
        if (this.failuresInRow > 0) {
          this.events.warn(`worker ${this.settings.workerId}: the store works again`);
        }
        this.failuresInRow = 0;
      } catch (e) {
        // Back off while the store fails (one warning per outage), up to STORE_BACKOFF_MS_MAX.
        if (this.failuresInRow === 0) {
          this.events.warn(
            `worker ${this.settings.workerId}: claiming failed (${(e as Error).message}); retrying with backoff`,
          );
        }
        this.failuresInRow++;
        await this.pause(storeBackoffMs(this.settings.pollIntervalMs, this.failuresInRow));
        continue;
      }
      if (!full) await this.idle();
    }
  }

  /** A run's commit or a store call for it failed: stop it here and hand it back later. */
  private storeFailed(runId: string, epoch: number, error: Error): void {
    // Only the run as it was held then: it may have been claimed again here since.
    const host = this.hosts.get(runId);
    if (host === undefined || host.epoch !== epoch) return;
    this.events.warn(
      `run ${runId}: the store failed (${error.message}); it stops here and is handed back`,
    );
    this.orphans.set(runId, host.epoch);
    host.lose(error);
  }

  /** The store refused this run's entries while it took other runs': the run pauses with
   * the reason, and nothing else on this worker is held up by it. */
  private async commitRefused(runId: string, epoch: number, error: Error): Promise<void> {
    const host = this.hosts.get(runId);
    if (host === undefined || host.epoch !== epoch) return;
    host.lose(error);
    const reason =
      `run ${runId} was paused: the store refused to commit what it wrote (${error.message}), ` +
      "while it committed other runs. Fix the cause (a value the store cannot keep), then " +
      "resume it with engine.resume(runId)";
    await this.pauseRun(runId, epoch, "commit_refused", reason);
  }

  /** Pauses a run held under `epoch`, journaling why; it waits for engine.resume(). */
  private async pauseRun(runId: string, epoch: number, kind: string, reason: string) {
    const entry: NewEntry = {
      type: "run_paused",
      at: this.clock.now(),
      position: null,
      key: null,
      data: entryData.run_paused({ reason: kind, message: reason }),
    };
    await this.committer
      .update(runId, epoch, [entry], { status: "paused", reason: kind })
      .catch(() => undefined);
    this.events.warn(reason);
    this.events.exited(runId, { kind: "paused", reason });
  }

  /** Another worker took the run (or it was cancelled): stop it here, writing nothing. Only
   * the lease of `epoch` is lost: a newer claim of the run by this worker carries on. */
  private leaseLost(runId: string, epoch: number, error: LeaseLostError): void {
    const host = this.hosts.get(runId);
    if (host === undefined || host.epoch !== epoch) return;
    this.events.warn(`${error.message} [${error.code}]`);
    host.lose(error);
  }

  private onWake(wake: StoreWake): void {
    if (wake.wakeAt !== null) this.noteWake(wake.wakeAt);
    if (wake.workflows === null || wake.workflows.some((w) => this.workflows.has(w))) this.kick();
    // An event, signal or decision may have ended a wait of a run held here.
    if (
      wake.owners === undefined
        ? wake.workflows === null
        : wake.owners.includes(this.settings.workerId)
    )
      void this.readInbox();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        this.wake = null;
        clearTimeout(timer);
        resolve();
      };
      if (this.closing) this.wake();
    });
  }

  /** Makes runs dropped after a failed commit runnable again (by any worker, this one too). */
  private async handBackOrphans(): Promise<void> {
    for (const [runId, epoch] of this.orphans) {
      await this.committer.update(runId, epoch, [], { status: "pending" });
      this.orphans.delete(runId);
    }
  }

  /** Claims up to a batch of runs; true when the batch was full (more may be waiting). */
  private async claimOnce(recovering: boolean): Promise<boolean> {
    const limit = Math.min(this.capacity, CLAIM_BATCH_RUNS_MAX);
    if (limit <= 0) return false;
    const at = performance.now();
    const sweep = recovering || at - this.sweptAtMs >= this.settings.pollIntervalMs;
    if (sweep) this.sweptAtMs = at;
    const claimed = await this.store.claim({
      workerId: this.settings.workerId,
      workflows: [...this.workflows.keys()],
      limit,
      leaseMs: this.settings.leaseMs,
      now: this.clock.now(),
      recovering,
      sweep,
      concurrency: this.concurrency,
      versions: this.claimVersions,
      versionGraceMs: this.settings.versionGraceMs,
    });
    await Promise.all(claimed.map((c) => this.adopt(c)));
    return claimed.length === limit;
  }

  private idle(): Promise<void> {
    if (this.kicked || this.closing) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.settings.pollIntervalMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        this.kicked = false;
        done();
      };
    });
  }

  private async adopt(claimed: ClaimedRun): Promise<void> {
    const run = claimed.run;
    // A claim is a lease transition: the run is now this worker's, under a claimed epoch.
    assert(
      run.status === "running" && run.owner === this.settings.workerId && run.epoch >= 1,
      () => `claimed run ${run.id} is ${run.status}, owned by ${run.owner} at epoch ${run.epoch}`,
    );
    const now = this.clock.now();
    if (claimed.takeover && run.recoveries >= this.settings.poisonRecoveriesMax) {
      const reason =
        `run ${run.id} was paused after ${run.recoveries} crashes in a row while it ran, with no ` +
        "progress in between: something in it (a step, the input) kills the process. Fix the cause, " +
        "then resume it with engine.resume(runId)";
      await this.pauseRun(run.id, run.epoch, "crash_loop", reason);
      return;
    }
    const versions = this.registry.versions.get(run.workflow);
    if (versions !== undefined && !versions.has(run.version)) {
      const pinned = run.version === null ? "no version" : `version '${run.version}'`;
      const newest = this.workflows.get(run.workflow)?.options.version;
      const reason =
        `run ${run.id} was paused: it is pinned to ${pinned} of workflow '${run.workflow}', ` +
        `which no worker registers (this one has ${listVersionsOf(versions)}), and it never runs ` +
        "other code by itself. Deploy a worker that registers that version, or resume it on a " +
        `registered one with engine.resume(runId, { version: ${JSON.stringify(newest ?? null)} }) ` +
        "(it replays its journal on that code), or cancel it";
      await this.pauseRun(run.id, run.epoch, "version_missing", reason);
      return;
    }
    let journal: readonly JournalEntry[];
    try {
      journal = claimed.journal ?? (await this.store.readJournal(run.id, "segment"));
    } catch (e) {
      if (
        !isEndureError(e, "key_not_found") &&
        !isEndureError(e, "payload_tampered") &&
        !isEndureError(e, "blob_missing")
      )
        throw e;
      // A sealed entry this engine cannot open, or a blob it cannot find: the run waits for
      // the right key or blob store (or an operator), and nothing else is held up by it.
      await this.pauseRun(
        run.id,
        run.epoch,
        "unreadable",
        `run ${run.id} was paused: its journal cannot be read (${e.message}). Configure the ` +
          "key or the blob store it was written with, then resume it with engine.resume(runId)",
      );
      return;
    }
    checkReadBack(run.id, journal);
    let prelude: NewEntry | null = null;
    let how: HostedHow = "claimed";
    if (claimed.takeover) {
      const data = entryData.run_recovered({
        worker: this.settings.workerId,
        recoveries: run.recoveries,
      });
      prelude = { type: "run_recovered", at: now, position: null, key: null, data };
      how = "recovered";
    } else if (journal.some((e) => e.type === "run_suspended" || e.type === "run_paused")) {
      prelude = {
        type: "run_resumed",
        at: now,
        position: null,
        key: null,
        data: entryData.run_resumed({}),
      };
      how = "resumed";
    }
    // Queue lag: from when the run became runnable (its timer, or its last change) to now.
    const lagMs = Math.max(0, now - Math.max(run.updatedAt, run.wakeAt ?? 0));
    this.host(run, journal, prelude, how, lagMs);
  }

  private host(
    run: RunRecord,
    journal: readonly JournalEntry[],
    prelude: NewEntry | null,
    how: HostedHow,
    queueLagMs: number | null,
  ): RunHost | null {
    const workflow = this.registry.versions.get(run.workflow)?.get(run.version);
    if (workflow === undefined) return null;
    const existing = this.hosts.get(run.id);
    if (existing !== undefined) {
      if (existing.epoch >= run.epoch) return null;
      // A claim raised the epoch of a run hosted here (a recovery claim racing a run just
      // started): the older host can no longer commit; the newer claim carries the run.
      existing.lose(
        new LeaseLostError(`run ${run.id} was claimed again by this worker at epoch ${run.epoch}`),
      );
    }
    const observation = this.observer?.hosted(run, journal, how, queueLagMs) ?? null;
    const first =
      prelude === null || observation === null
        ? prelude
        : { ...prelude, data: withSpan(prelude.data, observation.traceparent) };
    const host = new RunHost(
      {
        clock: this.clock,
        limits: this.limits,
        committer: this.committer,
        store: this.store,
        inMemoryWaitMs: this.settings.inMemoryWaitMs,
        waitTimeoutMsDefault: this.settings.waitTimeoutMsDefault,
        woke: (refs) => this.woke(refs),
        eventStored: (name) => this.eventStored(name),
        childWorkflow: (wf, input) => resolveChild(this.registry, wf, input),
        childCreate: (child, parentId, trace) =>
          childRunCreate(this.registry, child, parentId, this.clock.now(), trace),
        childrenCancelled: (ids, cancellation) => {
          for (const id of ids) this.hosts.get(id)?.requestCancel(cancellation);
          if (ids.some((id) => !this.hosts.has(id))) this.kick();
        },
        warn: (m) => (observation === null ? this.events.warn(m) : observation.warn(m)),
        observation,
        exited: (runId, exit) => {
          // A run leaving a full worker, or its concurrency limit, frees a place: look for
          // waiting work at once.
          const wasFull = this.hosts.size >= this.settings.runsMax;
          if (this.hosts.get(runId) === host) this.hosts.delete(runId);
          observation?.exited(exit);
          this.events.exited(runId, exit);
          if ((wasFull || run.concurrencyKey !== null) && !this.closing) this.kick();
        },
        evicted: (_runId, wakeAt) => this.noteWake(wakeAt),
        continued: () => {
          if (!this.closing) this.kick();
        },
        reserve: (limit) => this.store.acquireRate({ ...limit, now: this.clock.now() }),
        storeFailed: (runId, epoch, error) => this.storeFailed(runId, epoch, error),
      },
      workflow,
      run,
      segmentInput(latestSegment(journal), () => decodeValue(run.input)),
      journal,
      first,
    );
    this.hosts.set(run.id, host);
    return host;
  }

  /** Tells held runs what other processes did: ended waits, cancellation requests. */
  private async readInbox(): Promise<void> {
    if (this.hosts.size === 0 || this.closing) return;
    try {
      for (const item of await this.store.inbox([...this.hosts.keys()])) {
        const host = this.hosts.get(item.runId);
        if (item.kind === "wait_ended") void host?.waitEnded(item.position);
        else host?.requestCancel(item.cancellation);
      }
    } catch (e) {
      this.events.warn(
        `worker ${this.settings.workerId}: reading the inbox failed (${(e as Error).message})`,
      );
    }
  }

  private async renewLeases(): Promise<void> {
    if (this.hosts.size === 0 || this.closing) return;
    const held = [...this.hosts.values()].map((h) => ({ runId: h.runId, epoch: h.epoch }));
    try {
      const lost = await this.store.heartbeat(
        this.settings.workerId,
        held,
        this.settings.leaseMs,
        this.clock.now(),
      );
      const sent = new Map(held.map((h) => [h.runId, h.epoch]));
      for (const runId of lost) {
        // The run may have been dropped and claimed again while the heartbeat was on its way:
        // only the lease it asked about is lost.
        const epoch = sent.get(runId);
        if (epoch === undefined) continue;
        this.leaseLost(
          runId,
          epoch,
          new LeaseLostError(
            `worker ${this.settings.workerId} lost its lease on run ${runId}; it stops executing it`,
          ),
        );
      }
    } catch (e) {
      this.events.warn(
        `worker ${this.settings.workerId}: renewing leases failed (${(e as Error).message})`,
      );
    }
  }
}

/** A journal as read back from the store: it starts with the run's start (or, read from its
 * newest segment, with its `run_continued`), numbered 1, 2, ... in order, all of this run.
 * Replay trusts this order. */
function checkReadBack(runId: string, journal: readonly JournalEntry[]): void {
  assert(
    journal[0]?.type === "run_started" || journal[0]?.type === "run_continued",
    () => `journal of run ${runId} does not start with run_started (or run_continued)`,
  );
  journal.forEach((e, i) =>
    assert(
      e.seq === i + 1 && e.runId === runId,
      () => `journal of run ${runId} has entry ${e.seq} of run ${e.runId} at place ${i + 1}`,
    ),
  );
}

/** Versions in words, oldest first: `'1', '2'` (`(none)`: no version). */
function listVersionsOf(versions: ReadonlyMap<string | null, unknown>): string {
  return [...versions.keys()]
    .map((v) => (v === null ? "(none)" : `'${v}'`))
    .sort()
    .join(", ");
}
