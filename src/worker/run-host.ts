// Hosts one claimed run in memory: gives the replay core its port onto the group committer,
// evicts the run when it only waits for something far off, and records how it ended.
import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { EngineClosedError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { RunContext } from "../core/run-context.js";
import type { RunLimits, RunOutcome, RunPort } from "../core/run-port.js";
import type { NewChunk } from "../core/stream.js";
import type { SqlTransaction } from "../core/types.js";
import type { Workflow } from "../core/workflow.js";
import type { RunRecord, RunUpdate, WriteResult } from "../store/store.js";
import type { Committer } from "./committer.js";

/** How a hosted run left memory, for whoever waits on it. */
export type RunExit =
  | {
      readonly kind: "ended";
      readonly status: "completed" | "failed";
      readonly output: string | null;
      readonly error: string | null;
    }
  | { readonly kind: "paused"; readonly reason: string }
  | { readonly kind: "left" };

/** What a run host needs from its worker. */
export interface HostServices {
  readonly clock: Clock;
  readonly limits: RunLimits;
  readonly committer: Committer;
  /** Waits shorter than this (ms) stay in memory; longer ones evict the run. */
  readonly inMemoryWaitMs: number;
  warn(message: string): void;
  /** The run left memory (ended, paused, evicted, lost). */
  exited(runId: string, exit: RunExit): void;
  /** The run was evicted until `wakeAt`. */
  evicted(runId: string, wakeAt: number): void;
}

let sharedTurn: Promise<void> | null = null;

/** The next turn of the event loop, one timer shared by every run that asks in this turn. */
function nextTurn(): Promise<void> {
  sharedTurn ??= new Promise((resolve) =>
    setImmediate(() => {
      sharedTurn = null;
      resolve();
    }),
  );
  return sharedTurn;
}

/** One run executing in this worker. */
export class RunHost implements RunPort {
  readonly runId: string;
  readonly epoch: number;
  readonly ctx: RunContext;
  readonly clock: Clock;
  readonly limits: RunLimits;
  private idleCheckScheduled = false;
  private gone = false;

  constructor(
    private readonly services: HostServices,
    workflow: Workflow<unknown, unknown>,
    run: RunRecord,
    input: unknown,
    journal: readonly JournalEntry[],
  ) {
    this.runId = run.id;
    this.epoch = run.epoch;
    this.clock = services.clock;
    this.limits = services.limits;
    this.ctx = new RunContext(workflow, { runId: run.id, input, journal }, this);
    void this.ctx.outcome.then((outcome) => this.record(outcome));
  }

  // ---- RunPort ----------------------------------------------------------------------------

  append(entry: NewEntry): void {
    this.services.committer.append(this.runId, this.epoch, entry);
  }

  durable(): Promise<void> {
    return this.services.committer.durable(this.runId);
  }

  async transaction(body: (tx: SqlTransaction) => Promise<NewEntry[]>): Promise<void> {
    const result = await this.services.committer.transaction(this.runId, this.epoch, body);
    if (result.kind === "fenced") {
      this.lose();
      await new Promise<never>(() => {});
    }
  }

  emit(chunk: NewChunk): void {
    if (!this.gone) this.services.committer.appendChunk(this.runId, this.epoch, chunk);
  }

  nextTurn(): Promise<void> {
    return nextTurn();
  }

  entropy(): number {
    return Math.random();
  }

  uuid(): string {
    return randomUUID();
  }

  changed(): void {
    if (this.idleCheckScheduled || this.gone) return;
    this.idleCheckScheduled = true;
    setImmediate(() => {
      this.idleCheckScheduled = false;
      this.checkIdle();
    });
  }

  warn(message: string): void {
    this.services.warn(message);
  }

  // ---- worker side ------------------------------------------------------------------------

  /** The run's lease is gone (cancelled, taken over, store failure): stop without writing. */
  lose(reason: unknown = null): void {
    if (this.gone) return;
    this.gone = true;
    this.ctx.halt(reason);
    this.services.committer.forget(this.runId);
    this.services.exited(this.runId, { kind: "left" });
  }

  /** Graceful close: let running bodies finish (up to `graceMs`), then hand the run back. */
  async handBack(graceMs: number): Promise<void> {
    if (this.gone) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.ctx.drain(),
      new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    if (this.gone) return;
    this.gone = true;
    this.ctx.halt(new EngineClosedError("the engine closed; the run was handed back to the store"));
    await this.write([], { status: "pending" });
    this.services.exited(this.runId, { kind: "left" });
  }

  private checkIdle(): void {
    if (this.gone) return;
    const wakeAt = this.ctx.idleUntil();
    if (wakeAt === null) return;
    if (wakeAt - this.clock.now() <= this.services.inMemoryWaitMs) {
      // Waiting in memory: make what the run did so far (and the wait itself) visible now.
      void this.durable();
      return;
    }
    this.gone = true;
    this.ctx.halt(null);
    const entry: NewEntry = {
      type: "run_suspended",
      at: this.clock.now(),
      position: null,
      key: null,
      data: `{"wakeAt":${wakeAt}}`,
    };
    void this.write([entry], { status: "waiting", wakeAt }).then((r) => {
      if (r?.kind === "committed") this.services.evicted(this.runId, wakeAt);
      this.services.exited(this.runId, { kind: "left" });
    });
  }

  private async record(outcome: RunOutcome): Promise<void> {
    if (outcome.kind === "halted" || this.gone) return;
    this.gone = true;
    const update: RunUpdate =
      outcome.kind === "completed"
        ? { status: "completed", output: outcome.output }
        : outcome.kind === "failed"
          ? { status: "failed", error: outcome.error }
          : { status: "paused", reason: "non_determinism" };
    const result = await this.write([outcome.entry], update);
    if (result?.kind !== "committed") {
      this.services.exited(this.runId, { kind: "left" });
    } else if (outcome.kind === "paused") {
      this.services.warn(outcome.reason);
      this.services.exited(this.runId, { kind: "paused", reason: outcome.reason });
    } else {
      const ended =
        outcome.kind === "completed"
          ? { output: outcome.output, error: null }
          : { output: null, error: outcome.error };
      this.services.exited(this.runId, { kind: "ended", status: outcome.kind, ...ended });
    }
  }

  private async write(entries: NewEntry[], update: RunUpdate): Promise<WriteResult | null> {
    try {
      return await this.services.committer.update(this.runId, this.epoch, entries, update);
    } catch (e) {
      this.services.warn(
        `run ${this.runId}: could not record its state (${(e as Error).message}); it will be recovered`,
      );
      return null;
    }
  }
}
