// Group commit for events: `sendEvent` calls made while earlier ones are being committed
// share the next transaction (and its fsync), as steps of concurrent runs do. A batch the
// store refuses is sent again event by event, so one event's failure is its own.
import type { EventInput, SendEventResult } from "./store.js";

/** Most events one transaction stores (default 100): more calls wait for the next one. */
export const EVENT_BATCH_MAX = 100;

/** An event waiting for its commit. */
export interface QueuedEvent {
  readonly event: EventInput;
  readonly now: number;
  resolve(result: SendEventResult): void;
  reject(error: unknown): void;
}

/** Stores events in batches through `send`, at most `inFlightMax` batches at once. */
export class EventQueue {
  private readonly queue: QueuedEvent[] = [];
  private inFlight = 0;
  /** A batch just ended: the next starts once its callers have sent their next events. */
  private lingering = false;

  constructor(
    private readonly send: (
      events: ReadonlyArray<{ event: EventInput; now: number }>,
    ) => Promise<SendEventResult[]>,
    private readonly inFlightMax: number,
    private readonly batchMax = EVENT_BATCH_MAX,
  ) {}

  add(event: EventInput, now: number): Promise<SendEventResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, now, resolve, reject });
      if (!this.lingering) this.pump();
    });
  }

  /**
   * Takes the events waiting (up to a batch), for a transaction about to commit anyway: the
   * taker stores them in it, then calls {@link settle}, or {@link putBack} if it rolled back.
   */
  take(): QueuedEvent[] {
    return this.queue.splice(0, this.batchMax);
  }

  /** The taken events were committed with these results (in order), or failed together. */
  settle(taken: readonly QueuedEvent[], results: readonly SendEventResult[] | Error): void {
    if (results instanceof Error) {
      void this.alone(taken);
      return;
    }
    taken.forEach((q, i) => q.resolve(results[i] as SendEventResult));
  }

  /** The transaction that took them rolled back: they wait for the next one. */
  putBack(taken: readonly QueuedEvent[]): void {
    this.queue.unshift(...taken);
    if (!this.lingering) this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.inFlightMax && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        // After the callers just answered have had their turn to send their next events.
        this.lingering = true;
        setImmediate(() => {
          this.lingering = false;
          this.pump();
        });
      });
    }
  }

  private async commit(batch: readonly QueuedEvent[]): Promise<void> {
    let results: SendEventResult[];
    try {
      results = await this.send(batch);
    } catch (e) {
      if (batch.length === 1) batch[0]?.reject(e);
      else await this.alone(batch);
      return;
    }
    this.settle(batch, results);
  }

  /** Nothing of a failed batch was committed (or, if its commit's outcome is unknown, sending
   * again finds the events stored by id): each event alone, in order. */
  private async alone(batch: readonly QueuedEvent[]): Promise<void> {
    for (const q of batch) {
      try {
        const [result] = await this.send([q]);
        q.resolve(result as SendEventResult);
      } catch (error) {
        q.reject(error);
      }
    }
  }
}
