// Deterministic: hands results to the workflow code one per turn of the event loop, journaled
// ones first in journal order, then live ones in the order they were journaled. Equal order on
// the first run and on replay is what makes Promise.race and Promise.all replay faithfully.
//
// Replay knows when it has finished matching without guessing at time: workflow code awaits
// only endure operations, so once the code has had a whole turn (every microtask run) after
// its last result, it has asked for everything it is going to ask for until the next result.
// If the journal then settles an operation the code never asked for, the code diverged.
import type { JournalEntry } from "./journal.js";

/** What the queue needs from its run. */
export interface SettlementOwner {
  readonly ended: boolean;
  /** True while the run does work of its own before the code may go on (a cancellation being
   * set up); when that work ends the run pumps the queue again. */
  readonly busy: boolean;
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
  private handed = 0;
  private readonly live: Array<() => void> = [];

  constructor(
    private readonly journaled: readonly JournalEntry[],
    private readonly owner: SettlementOwner,
  ) {}

  /** How many results were handed to the code so far. */
  get handedOver(): number {
    return this.handed;
  }

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
    if (this.pumping || this.owner.ended) return;
    this.pumping = true;
    void this.deliver();
  }

  private async deliver(): Promise<void> {
    // Whether the code has had a whole turn since it last received something.
    let settledTurn = false;
    for (;;) {
      if (this.owner.ended) break;
      const next = this.next();
      if (next === "unasked") {
        if (!settledTurn) {
          await this.owner.nextTurn();
          settledTurn = true;
          continue;
        }
        const entry = this.journaled[this.cursor];
        if (!this.owner.busy && entry !== undefined) this.owner.stalled(entry);
        break;
      }
      if (next === null) break;
      this.handed++;
      next();
      await this.owner.nextTurn();
      settledTurn = true;
    }
    this.pumping = false;
    if (!this.owner.ended) this.owner.drained();
  }

  private next(): (() => void) | "unasked" | null {
    const entry = this.journaled[this.cursor];
    if (entry !== undefined) {
      const settle = this.owner.settlementFor(entry);
      if (settle === null) return "unasked";
      this.cursor++;
      return settle;
    }
    return this.holds > 0 ? null : (this.live.shift() ?? null);
  }
}
