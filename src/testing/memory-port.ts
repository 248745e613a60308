// An in-memory host for the replay core: entries commit a turn after they are asked to be
// durable, timers fire at once (virtual time jumps to them), and waits end as the caller says.
import type { Clock, TimerHandle } from "../core/clock.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import {
  JOURNAL_ENTRIES_MAX_DEFAULT,
  PAYLOAD_BYTES_MAX_DEFAULT,
  PAYLOAD_BYTES_WARN_DEFAULT,
  WAIT_TIMEOUT_MS_DEFAULT,
} from "../core/limits.js";
import type { MemoryRecord, MemoryTx } from "../core/memory.js";
import type {
  ChildRequest,
  ChildWorkflow,
  RunPort,
  WaitOutcome,
  WaitRequest,
} from "../core/run-port.js";
import { readEntryData } from "../core/entry-data.js";
import { encodeValue } from "../core/serialize.js";
import type { SqlTransaction } from "../core/types.js";
import type { NewChunk } from "../core/stream.js";
import {
  encodeChildOutcome,
  encodeReceivedEvent,
  encodeReceivedSignal,
  encodeApprovalResult,
} from "../core/wait-values.js";

/** How a wait ends in memory: with this data (an event's or signal's), a decision, or null. */
export type WaitAnswer = (wait: {
  kind: WaitRequest["kind"];
  target: string;
  key: string;
}) => unknown;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A virtual clock whose timers fire on the next turn, moving time to when they were due. */
class JumpingClock implements Clock {
  private time: number;
  constructor(start: number) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    let live = true;
    const due = this.time + Math.max(0, delayMs);
    setImmediate(() => {
      if (!live) return;
      this.time = Math.max(this.time, due);
      fn();
    });
    return { cancel: () => void (live = false) };
  }
}

/** A {@link RunPort} that keeps everything in memory, for exploring replays without a store. */
export class MemoryPort implements RunPort {
  readonly clock: Clock;
  readonly limits = {
    payloadBytesMax: PAYLOAD_BYTES_MAX_DEFAULT,
    resultBytesMax: PAYLOAD_BYTES_MAX_DEFAULT,
    payloadBytesWarn: PAYLOAD_BYTES_WARN_DEFAULT,
    journalEntriesMax: JOURNAL_ENTRIES_MAX_DEFAULT,
  };
  readonly waitTimeoutMsDefault = WAIT_TIMEOUT_MS_DEFAULT;
  /** Entries committed so far, in order. */
  readonly committed: NewEntry[] = [];
  readonly warnings: string[] = [];
  /** Output-stream parts emitted so far, in order (keyed ones once). */
  readonly chunks: NewChunk[] = [];
  private queued: NewEntry[] = [];
  private seed: number;
  private readonly waits = new Map<number, WaitRequest>();

  constructor(
    options: {
      seed?: number;
      startMs?: number;
      answer?: WaitAnswer;
      journal?: readonly JournalEntry[];
    } = {},
  ) {
    this.seed = options.seed ?? 1;
    this.clock = new JumpingClock(options.startMs ?? Date.UTC(2026, 0, 1));
    this.answer = options.answer ?? (() => null);
    // Waits begun before a crash exist in a store; here they are rebuilt from the journal.
    for (const e of options.journal ?? []) {
      if (e.type !== "wait_started" || e.position === null || e.key === null) continue;
      const data = readEntryData(e, "wait_started");
      this.waits.set(e.position, {
        position: e.position,
        key: e.key,
        kind: data.kind,
        target: data.target,
        match: null,
        timeoutAt: data.timeoutAt,
        details: null,
      });
    }
  }

  private readonly answer: WaitAnswer;

  append(entry: NewEntry): void {
    this.queued.push(entry);
  }
  async durable(): Promise<void> {
    await turn();
    this.commit();
  }
  /** Commits what is queued (a store would at the next group commit). */
  commit(): void {
    this.committed.push(...this.queued);
    this.queued = [];
  }
  /** Memory keys of this port's runs: `namespace/key` to the current value. */
  readonly memory = new Map<string, MemoryRecord>();
  /**
   * Runs `body` with memory kept in {@link memory}; its entries commit with what is queued.
   * A transactional step's SQL needs a store: its `tx` refuses every statement.
   */
  async transaction(
    body: (tx: SqlTransaction, memory: MemoryTx) => Promise<NewEntry[]>,
  ): Promise<void> {
    await turn();
    const refuse = (): Promise<never> =>
      Promise.reject(
        new InvalidArgumentError("transactional steps need a store; test them against sqliteStore"),
      );
    const tx: SqlTransaction = { dialect: "sqlite", query: refuse, execute: refuse };
    const writes = new Map<string, MemoryRecord>();
    const memory: MemoryTx = {
      read: (namespace, key) => Promise.resolve(this.memory.get(`${namespace}/${key}`) ?? null),
      write: (w) => {
        const id = `${w.namespace}/${w.key}`;
        const record: MemoryRecord = {
          namespace: w.namespace,
          key: w.key,
          value: w.value,
          version: ((writes.get(id) ?? this.memory.get(id))?.version ?? 0) + 1,
          updatedAt: w.at,
          runId: w.runId,
          by: w.by,
        };
        writes.set(id, record);
        return Promise.resolve(record);
      },
    };
    const entries = await body(tx, memory);
    for (const [id, record] of writes) this.memory.set(id, record);
    this.commit();
    this.committed.push(...entries);
  }
  /** Rate limits are not enforced in memory: each call goes at once. */
  acquireRate(): Promise<void> {
    return Promise.resolve();
  }
  nextTurn(): Promise<void> {
    return turn();
  }
  entropy(): number {
    this.seed = (this.seed * 16807) % 2147483647;
    return this.seed / 2147483647;
  }
  uuid(): string {
    const hex = Math.floor(this.entropy() * 2 ** 48)
      .toString(16)
      .padStart(12, "0");
    return `00000000-0000-4000-8000-${hex}`;
  }
  emit(chunk: NewChunk): void {
    if (chunk.key !== null && this.chunks.some((c) => c.key === chunk.key)) return;
    this.chunks.push(chunk);
  }
  changed(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  createWait(wait: WaitRequest): void {
    this.waits.set(wait.position, wait);
  }
  async waitOutcome(position: number): Promise<WaitOutcome> {
    await turn();
    const wait = this.waits.get(position);
    if (wait === undefined) return new Promise(() => {});
    const answer = this.answer({ kind: wait.kind, target: wait.target, key: wait.key });
    if (answer === null || answer === undefined) return new Promise(() => {});
    const now = this.clock.now();
    if (wait.kind === "approval") {
      const approved = answer === true || (answer as { approved?: boolean }).approved === true;
      const decision = { by: "test", approved, comment: null, role: null, at: now };
      return {
        status: "satisfied",
        value: encodeApprovalResult(approved ? "approved" : "rejected", [decision], now),
      };
    }
    const data = encodeValue(answer, "answer");
    if (wait.kind === "child")
      return { status: "satisfied", value: encodeChildOutcome("completed", data) };
    const value =
      wait.kind === "signal"
        ? encodeReceivedSignal(wait.target, data, now)
        : encodeReceivedEvent(`test/${wait.key}`, wait.target, data, now);
    return { status: "satisfied", value };
  }
  closeWait(position: number, closure: Parameters<RunPort["closeWait"]>[1]): Promise<WaitOutcome> {
    const wait = this.waits.get(position);
    if (wait?.kind === "approval" && closure.status !== "cancelled") {
      const now = this.clock.now();
      const value =
        closure.status === "timed_out"
          ? encodeApprovalResult("timed_out", [], now)
          : encodeApprovalResult("resolved", [], now, closure.approved ?? false);
      return Promise.resolve({ status: closure.status, value });
    }
    return Promise.resolve({
      status: closure.status,
      value: closure.status === "resolved" ? closure.value : null,
    });
  }
  addApprovers(): Promise<void> {
    return Promise.resolve();
  }
  sendEvent(): Promise<void> {
    return Promise.resolve();
  }
  cancelWaits(): Promise<void> {
    return Promise.resolve();
  }
  /** Child runs started so far; a child wait ends as `answer` says, with the child's output. */
  readonly children: ChildRequest[] = [];
  childWorkflow(workflow: unknown, input: unknown): ChildWorkflow {
    if (typeof workflow === "string") return { name: workflow, version: null, input };
    const wf = workflow as { name: string; options?: { version?: string } };
    return { name: wf.name, version: wf.options?.version ?? null, input };
  }
  startChild(child: ChildRequest): void {
    if (!this.children.some((c) => c.runId === child.runId)) this.children.push(child);
  }
  cancelChildren(): Promise<void> {
    return Promise.resolve();
  }

  withdrawWait(position: number): Promise<void> {
    this.waits.delete(position);
    return Promise.resolve();
  }
}
