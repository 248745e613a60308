// LISTEN/NOTIFY wake-ups: one dedicated connection listens on the store's channel and hands
// each notification to the subscribers. A lost connection is reopened with backoff; since
// notifications sent meanwhile are gone, subscribers then get a wake-up for "anything" (as
// they do once listening starts).
import pg from "pg";
import type { StoreWake } from "../store.js";
import { RECONNECT_BACKOFF_MS_INITIAL, RECONNECT_BACKOFF_MS_MAX } from "./settings.js";

/** A wake-up for anything: after a reconnection, or an unreadable payload. */
const ANY: StoreWake = { workflows: null, wakeAt: null };

/** Listens on `channel` while it has subscribers. */
export class Listener {
  private readonly subscribers = new Set<(wake: StoreWake) => void>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private backoffMs = RECONNECT_BACKOFF_MS_INITIAL;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly connect: () => pg.Client,
    private readonly channel: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Adds a subscriber, connecting on the first one. Returns the unsubscribe function. */
  subscribe(onWake: (wake: StoreWake) => void): () => void {
    this.subscribers.add(onWake);
    if (this.client === null && this.connecting === null) this.start();
    return () => {
      this.subscribers.delete(onWake);
    };
  }

  /** Resolves once listening (or once the first attempt failed; retries go on). */
  ready(): Promise<void> {
    return this.connecting ?? Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    await this.connecting;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private start(): void {
    if (this.closed) return;
    this.connecting = this.open().finally(() => (this.connecting = null));
  }

  private async open(): Promise<void> {
    const client = this.connect();
    client.on("notification", (n) => {
      if (n.channel === this.channel) this.emit(parse(n.payload));
    });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (e) {
      await client.end().catch(() => undefined);
      this.warn(`listening for wake-ups failed (${(e as Error).message}); retrying`);
      this.schedule();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoffMs = RECONNECT_BACKOFF_MS_INITIAL;
    // Notifications sent before we listened (or while we were away) are lost: look once.
    this.emit(ANY);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners("notification");
    void client.end().catch(() => undefined);
    if (!this.closed) this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.retry !== null) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_BACKOFF_MS_MAX);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start();
    }, delay);
    this.retry.unref();
  }

  private emit(wake: StoreWake): void {
    for (const s of this.subscribers) s(wake);
  }
}

function parse(payload: string | undefined): StoreWake {
  try {
    const value = JSON.parse(payload ?? "") as Partial<StoreWake>;
    return {
      workflows: Array.isArray(value.workflows) ? value.workflows : null,
      wakeAt: typeof value.wakeAt === "number" ? value.wakeAt : null,
      ...(Array.isArray(value.owners) ? { owners: value.owners } : {}),
    };
  } catch {
    return ANY;
  }
}
