// Deterministic: ctx.all, ctx.any, ctx.race and ctx.some over the run's operations. A
// combinator is an operation of its own: it is decided when its members' results are
// journaled (live) or as its journal says (replay), its winners are journaled, and the members
// still pending when it is decided are withdrawn: waits leave the store, sleeps stop, nested
// combinators withdraw theirs. Steps that lose are left to finish (their bodies may have
// effects under way); their results are journaled and not used.
import { assert } from "./assert.js";
import { entryData, readEntryData } from "./entry-data.js";
import { CombinatorFailedError, InvalidArgumentError, OperationCancelledError } from "./errors.js";
import type { JournalEntry, NewEntry } from "./journal.js";
import type { Op } from "./op.js";
import type { RunScope } from "./run-scope.js";

/** The four combinators. */
export type CombinatorKind = "all" | "any" | "race" | "some";

/** What a combinator journals when it is decided: the winners by input index, and whether it
 * succeeded. */
export interface Decision {
  readonly winners: readonly number[];
  readonly ok: boolean;
}

/** A member's settlement, in the order the run saw them. */
interface Settled {
  readonly index: number;
  readonly failed: boolean;
}

/** Checks a combinator's arguments; throws when they are invalid. */
export function checkCombinator(kind: CombinatorKind, k: number, inputs: unknown): void {
  if (!Array.isArray(inputs))
    throw new InvalidArgumentError(`ctx.${kind} needs an array of operations (promises)`);
  const n = inputs.length;
  if (kind === "some") {
    if (n === 0) {
      throw new InvalidArgumentError(
        "ctx.some got no operations; give it at least k of them (k of n, with 1 <= k <= n)",
      );
    }
    if (!Number.isInteger(k) || k < 1 || k > n) {
      throw new InvalidArgumentError(
        `ctx.some needs k from 1 to the number of operations (${n}), got ${String(k)}`,
      );
    }
  } else if (n === 0 && kind !== "all") {
    throw new InvalidArgumentError(
      `ctx.${kind} got no operations; it would never settle. Give it at least one`,
    );
  }
}

/** Decides a combinator from its members' settlements so far, or null while undecided. */
export function decide(
  kind: CombinatorKind,
  k: number,
  n: number,
  settled: readonly Settled[],
): Decision | null {
  const oks = settled.filter((s) => !s.failed).map((s) => s.index);
  const failures = settled.length - oks.length;
  switch (kind) {
    case "race": {
      const first = settled[0];
      return first === undefined ? null : { winners: [first.index], ok: !first.failed };
    }
    case "all": {
      const failed = settled.find((s) => s.failed);
      if (failed !== undefined) return { winners: [failed.index], ok: false };
      return oks.length === n ? { winners: [...Array(n).keys()], ok: true } : null;
    }
    case "any":
      if (oks.length > 0) return { winners: [oks[0] as number], ok: true };
      return failures === n ? { winners: [], ok: false } : null;
    case "some":
      if (oks.length >= k) return { winners: oks.slice(0, k), ok: true };
      return failures > n - k ? { winners: [], ok: false } : null;
  }
}

/** What a combinator needs of its run beyond the scope. */
export interface CombinatorRun {
  readonly scope: RunScope;
  /** The settling entry the journal holds for the operation at `position`, if any. */
  journaled(position: number): JournalEntry | undefined;
  /** The combinator at `position`, to withdraw it when it loses an enclosing one. */
  combinatorAt(position: number): Combinator | undefined;
  /** Ends the run failed: the store failed while withdrawing. */
  fail(error: unknown): void;
}

interface Member {
  readonly op: Op | undefined;
  state: "pending" | "ok" | "failed";
  value: unknown;
  error: unknown;
}

/** One combinator of a run. */
export class Combinator {
  private readonly members: Member[];
  private readonly settled: Settled[] = [];
  private decided = false;
  /** The withdrawals of the losers under way, with the entries they will journal. */
  private finishing: Promise<NewEntry[]> | null = null;

  constructor(
    private readonly run: CombinatorRun,
    readonly op: Op,
    private readonly kind: CombinatorKind,
    private readonly k: number,
    inputs: readonly unknown[],
  ) {
    this.members = inputs.map((input, index) => {
      const member: Member = {
        op: run.scope.opOf(input),
        state: "pending",
        value: undefined,
        error: undefined,
      };
      // Values are kept as the code sees them; a member that is not an operation of the run
      // (a plain promise, an async function's) is also decided by when the code sees it.
      Promise.resolve(input).then(
        (value) => {
          member.state = "ok";
          member.value = value;
          if (member.op === undefined) this.memberSettled(index, false);
        },
        (error: unknown) => {
          member.state = "failed";
          member.error = error;
          if (member.op === undefined) this.memberSettled(index, true);
        },
      );
      return member;
    });
  }

  /** Starts deciding live: members settled already count first, in the order they settled. */
  start(): void {
    const { scope } = this.run;
    const before: Array<Settled & { order: number }> = [];
    const journalLength = Number.MAX_SAFE_INTEGER / 2;
    this.members.forEach((m, index) => {
      if (m.op === undefined) return;
      const position = m.op.position;
      const entry = this.run.journaled(position);
      if (entry !== undefined) {
        before.push({ index, failed: failedEntry(entry), order: entry.seq });
        return;
      }
      const live = scope.liveSettlement(position);
      if (live !== undefined) {
        before.push({ index, failed: live.failed, order: journalLength + live.order });
        return;
      }
      if (scope.isWithdrawn(position)) {
        before.push({ index, failed: true, order: journalLength });
        return;
      }
      scope.onSettled(position, (failed) => this.memberSettled(index, failed));
    });
    before.sort((a, b) => a.order - b.order);
    for (const s of before) this.memberSettled(s.index, s.failed);
  }

  /** The combinator's own journaled entry, handed over in journal order (replay). */
  fromJournal(entry: JournalEntry): void {
    this.decided = true;
    if (entry.type === "combinator_cancelled") {
      this.op.reject(cancelled(this.op.key, entry));
      return;
    }
    this.deliver(readEntryData(entry, "combinator_settled"));
  }

  /**
   * Withdraws this combinator (it lost an enclosing one): it is never decided, and its
   * pending members are withdrawn too. Resolves with the entries to journal.
   */
  withdraw(by: string): Promise<NewEntry[]> {
    const { scope } = this.run;
    const wasDeciding = this.finishing;
    this.decided = true;
    scope.withdraw(this.op);
    const nested = wasDeciding ?? this.withdrawPending();
    const now = scope.port.clock.now();
    return nested.then((entries) => [
      ...entries,
      cancelEntry("combinator_cancelled", this.op, by, now),
    ]);
  }

  private memberSettled(index: number, failed: boolean): void {
    if (this.decided || !this.run.scope.isCurrent(this.op)) return;
    this.settled.push({ index, failed });
    const decision = decide(this.kind, this.k, this.members.length, this.settled);
    if (decision === null) return;
    this.decided = true;
    void this.finish(decision);
  }

  private async finish(decision: Decision): Promise<void> {
    const { scope } = this.run;
    const winners = new Set(decision.winners);
    const settledNow = new Set(this.settled.map((s) => s.index));
    // Losers are marked withdrawn at once, before anything else can settle them.
    this.finishing = this.withdrawPending((i) => !winners.has(i) && !settledNow.has(i));
    scope.bodyStarted();
    let entries: NewEntry[];
    try {
      entries = await this.finishing;
    } catch (e) {
      this.run.fail(e);
      return;
    } finally {
      scope.bodyEnded();
    }
    if (!scope.isCurrent(this.op)) return;
    // The losers' withdrawals, then the decision, in the order the code is handed them.
    for (const entry of entries) {
      scope.append(entry);
      const loser = entry.position === null ? undefined : this.loserAt(entry.position);
      if (loser !== undefined) scope.settleWithdrawn(() => loser.reject(cancelled(loser.key)));
    }
    scope.append({
      type: "combinator_settled",
      at: scope.port.clock.now(),
      position: this.op.position,
      key: this.op.key,
      data: entryData.combinator_settled(decision),
    });
    scope.settleLive(this.op, () => this.deliver(decision), { failed: !decision.ok });
  }

  private loserAt(position: number): Op | undefined {
    return this.members.find((m) => m.op?.position === position)?.op;
  }

  /** Withdraws the members still pending (those `which` picks): marked now, the store after. */
  private withdrawPending(which: (index: number) => boolean = () => true): Promise<NewEntry[]> {
    const { scope } = this.run;
    const parts: Array<Promise<NewEntry[]>> = [];
    const seen = new Set<number>();
    this.members.forEach((m, index) => {
      const op = m.op;
      if (op === undefined || !which(index) || seen.has(op.position)) return;
      seen.add(op.position);
      if (!scope.isCurrent(op) || !scope.ops.has(op.position)) return;
      const now = scope.port.clock.now();
      switch (op.kind) {
        case "sleep":
          scope.withdraw(op);
          parts.push(Promise.resolve([cancelEntry("sleep_cancelled", op, this.op.key, now)]));
          break;
        case "wait":
          scope.withdraw(op);
          parts.push(
            scope.port
              .withdrawWait(op.position)
              .then(() => [cancelEntry("wait_cancelled", op, this.op.key, now)]),
          );
          break;
        case "combinator": {
          const inner = this.run.combinatorAt(op.position);
          if (inner !== undefined) parts.push(inner.withdraw(this.op.key));
          break;
        }
        default:
          // A step that lost runs to its end: its body may be doing something already.
          break;
      }
    });
    return Promise.all(parts).then((lists) => lists.flat());
  }

  private deliver(decision: Decision): void {
    const { op, members } = this;
    const winner = members[decision.winners[0] ?? -1];
    for (const i of decision.winners) {
      assert(
        members[i]?.state !== "pending",
        () => `combinator ${op.key}: winner ${i} has no result`,
      );
    }
    switch (this.kind) {
      case "race":
        if (decision.ok) op.resolve(winner?.value);
        else op.reject(winner?.error);
        return;
      case "all":
        if (decision.ok) op.resolve(members.map((m) => m.value));
        else op.reject(winner?.error);
        return;
      case "any":
      case "some":
        if (decision.ok) {
          op.resolve(
            this.kind === "any"
              ? winner?.value
              : decision.winners.map((index) => ({ index, value: members[index]?.value })),
          );
        } else {
          op.reject(
            new CombinatorFailedError(
              this.kind === "any"
                ? `ctx.any (${op.key}): all ${members.length} operations failed`
                : `ctx.some (${op.key}): needed ${this.k} of ${members.length} operations to succeed, but ${
                    members.filter((m) => m.state === "failed").length
                  } failed`,
              members.map((m) => (m.state === "failed" ? m.error : null)),
            ),
          );
        }
        return;
    }
  }
}

function failedEntry(entry: JournalEntry): boolean {
  if (entry.type === "step_failed") return true;
  if (entry.type.endsWith("_cancelled")) return true;
  if (entry.type === "combinator_settled") return !readEntryData(entry, entry.type).ok;
  // A child run that did not complete.
  if (entry.type === "wait_completed") return "error" in readEntryData(entry, entry.type);
  return false;
}

type CancelType = "sleep_cancelled" | "wait_cancelled" | "combinator_cancelled";

function cancelEntry(type: CancelType, op: Op, by: string, at: number): NewEntry {
  return { type, at, position: op.position, key: op.key, data: entryData[type]({ by }) };
}

/** The error a withdrawn operation's promise rejects with. */
export function cancelled(key: string, entry?: JournalEntry): OperationCancelledError {
  const by = entry === undefined ? null : readEntryData(entry, entry.type as CancelType).by;
  return new OperationCancelledError(
    `operation '${key}' was withdrawn${by === null ? "" : ` when ${by} was decided`}: it lost ` +
      "the combinator it was passed to. Await the combinator's result instead",
  );
}
