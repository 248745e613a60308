// Deterministic: hands results to the workflow code one per turn of the event loop, journaled
// ones first in journal order, then live ones in the order they were journaled. Equal order on
// the first run and on replay is what makes Promise.race and Promise.all replay faithfully.
import type { JournalEntry } from "./journal.js";

/** Macrotask turns a replay waits for the code to ask for a recorded operation before it
 * calls the run diverged. Workflow code only awaits endure operations, so a handful of turns
 * is plenty; awaiting anything else between steps is itself non-deterministic. */
const REPLAY_STALL_TURNS = 20;

/** What the queue needs from its run. */
export interface SettlementOwner {
  readonly finished: boolean;
  /** Operations asked for so far (stall detection watches it move). */
  readonly calls: number;
  /** The settle function for a journaled entry, once the code has asked for its operation. */
  settlementFor(entry: JournalEntry): (() => void) | null;
  /** The journal holds `entry` but the code stopped before asking for it. */
  stalled(entry: JournalEntry): void;
  nextTurn(): Promise<void>;
  /** The queue ran dry (the run may be idle now). */
  drained(): void;
}

/** The ordered hand-over of results to the code. */
export class SettlementQueue {
  private cursor = 0;
  private pumping = false;
  private holds = 0;
  private stallArmed = false;
  private readonly live: Array<() => void> = [];

  constructor(
    private readonly journaled: readonly JournalEntry[],
    private readonly owner: SettlementOwner,
  ) {}

  /** True while journaled settlements remain to be handed over. */
  get replaying(): boolean {
    return this.cursor < this.journaled.length;
  }

  /** True while something is being, or waits to be, handed over. */
  get busy(): boolean {
    return this.pumping || this.live.length > 0 || this.replaying;
  }

  /** The next journaled entry to hand over, if any. */
  get nextJournaled(): JournalEntry | undefined {
    return this.journaled[this.cursor];
  }

  /** Queues a live result; `first` puts it ahead of queued ones (a transactional step). */
  push(settle: () => void, first = false): void {
    if (first) this.live.unshift(settle);
    else this.live.push(settle);
    this.pump();
  }

  /** Holds back live results until the returned release is called. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.pump();
    };
  }

  /** Drops queued live results (the run was halted or is being cancelled). */
  clear(): void {
    this.live.length = 0;
  }

  /** Starts handing over, if not already doing so. */
  pump(): void {
    if (this.pumping || this.owner.finished) return;
    this.pumping = true;
    void this.deliver();
  }

  private async deliver(): Promise<void> {
    for (;;) {
      if (this.owner.finished) break;
      const settle = this.next();
      if (settle === null) break;
      settle();
      await this.owner.nextTurn();
    }
    this.pumping = false;
    if (!this.owner.finished) this.owner.drained();
  }

  private next(): (() => void) | null {
    const entry = this.journaled[this.cursor];
    if (entry !== undefined) {
      const settle = this.owner.settlementFor(entry);
      if (settle === null) {
        this.armStallCheck();
        return null;
      }
      this.cursor++;
      return settle;
    }
    return this.holds > 0 ? null : (this.live.shift() ?? null);
  }

  private armStallCheck(): void {
    if (this.stallArmed) return;
    this.stallArmed = true;
    const calls = this.owner.calls;
    const cursor = this.cursor;
    void (async () => {
      for (let i = 0; i < REPLAY_STALL_TURNS; i++) await this.owner.nextTurn();
      this.stallArmed = false;
      if (this.owner.finished || this.cursor !== cursor) return;
      if (this.owner.calls !== calls) {
        if (!this.pumping) this.armStallCheck();
        return;
      }
      const entry = this.journaled[cursor];
      if (entry !== undefined) this.owner.stalled(entry);
    })();
  }
}
