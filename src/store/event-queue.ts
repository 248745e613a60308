// Group commit for events: `sendEvent` calls made while earlier ones are being committed
// share the next transaction (and its fsync), as steps of concurrent runs do. A batch the
// store refuses is sent again event by event, so one event's failure is its own.
import type { EventInput, SendEventResult } from "./store.js";

/** Most events one transaction stores (default 100): more calls wait for the next one. */
export const EVENT_BATCH_MAX = 100;

interface Queued {
  readonly event: EventInput;
  readonly now: number;
  resolve(result: SendEventResult): void;
  reject(error: unknown): void;
}

/** Stores events in batches through `send`, at most `inFlightMax` batches at once. */
export class EventQueue {
  private readonly queue: Queued[] = [];
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

  private pump(): void {
    while (this.inFlight < this.inFlightMax && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchMax);
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

  private async commit(batch: readonly Queued[]): Promise<void> {
    let results: SendEventResult[];
    try {
      results = await this.send(batch);
    } catch (e) {
      if (batch.length === 1) {
        batch[0]?.reject(e);
        return;
      }
      // Nothing of the batch was committed (or, if its commit's outcome is unknown, sending
      // again finds the events stored by id): each event alone, in order.
      for (const q of batch) {
        try {
          const [result] = await this.send([q]);
          q.resolve(result as SendEventResult);
        } catch (error) {
          q.reject(error);
        }
      }
      return;
    }
    batch.forEach((q, i) => q.resolve(results[i] as SendEventResult));
  }
}
