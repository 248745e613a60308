// Runs' data keys, opened and kept in memory for the sealing store (see sealed-store.ts):
// loaded from the store before a run's payloads are sealed or opened, bounded in number, and
// read again after RUN_KEY_CACHE_MS before opening, so that a run shredded by another process
// reads as shredded here soon after.
import { RunShreddedError } from "../core/errors.js";
import type { RunKeyRecord, RunKeyStore } from "../store/run-keys.js";
import type { DataKey, DataKeyLookup, RunKeyCodec } from "./codec.js";

/** Runs whose data keys one engine keeps opened in memory: 10,000 (about 2 MB). */
export const RUN_KEYS_CACHED_MAX = 10_000;
/**
 * How long a run's key, as read from the store, is trusted before its payloads are opened
 * again: 30 s. Another process's shred is seen here at most this late.
 */
export const RUN_KEY_CACHE_MS = 30_000;

/** What a run has: a data key, none (it started before run keys), or a shredded one. */
export type RunKeyState =
  | { readonly kind: "key"; readonly key: DataKey; readonly wrapped: string }
  | { readonly kind: "none" }
  | { readonly kind: "shredded"; readonly at: number };

interface Cached {
  readonly state: RunKeyState;
  readonly readAtMs: number;
}

/** The data keys of runs one engine reads and writes. */
export class RunKeys {
  private readonly runs = new Map<string, Cached>();
  private readonly byId = new Map<string, DataKey>();

  constructor(
    private readonly store: RunKeyStore,
    private readonly codec: RunKeyCodec,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly cachedMax = RUN_KEYS_CACHED_MAX,
  ) {}

  /** Finds an opened data key by its id (the codec opens payloads through it). */
  readonly lookup: DataKeyLookup = (id) => this.byId.get(id);

  /** Gives new runs keys of their own (runs that have one keep it), in one transaction. */
  async create(runIds: readonly string[], now: number): Promise<void> {
    const ids = [...new Set(runIds)];
    if (ids.length === 0) return;
    const made = ids.map((runId) => ({ runId, ...this.codec.createDataKey() }));
    const stored = await this.store.put(
      made.map((m) => ({ runId: m.runId, wrapped: m.wrapped })),
      now,
    );
    stored.forEach((record, i) => {
      const mine = made[i];
      this.remember(
        record,
        mine !== undefined && record.wrapped === mine.wrapped ? mine.key : null,
      );
    });
  }

  /**
   * Loads the keys of these runs that are not in memory, or (`fresh`) were read more than
   * RUN_KEY_CACHE_MS ago. Runs without a key are always read again: one may have been
   * created by another process since.
   */
  async load(runIds: readonly string[], fresh: boolean): Promise<void> {
    const t = this.nowMs();
    const missing = [...new Set(runIds)].filter((id) => {
      const c = this.runs.get(id);
      return (
        c === undefined || c.state.kind === "none" || (fresh && t - c.readAtMs > RUN_KEY_CACHE_MS)
      );
    });
    if (missing.length === 0) return;
    const found = new Map((await this.store.read(missing)).map((r) => [r.runId, r]));
    for (const id of missing) {
      const record = found.get(id);
      if (record === undefined) this.set(id, { kind: "none" });
      else this.remember(record, null);
    }
  }

  /** The run's key as loaded; "none" when it was not loaded. */
  stateOf(runId: string): RunKeyState {
    const c = this.runs.get(runId);
    if (c === undefined) return { kind: "none" };
    // Most recently used last, so that the oldest is dropped first.
    this.runs.delete(runId);
    this.runs.set(runId, c);
    return c.state;
  }

  /** Refuses a run that was shredded (read fresh from the store). */
  async checkNotShredded(runId: string, doing: string): Promise<void> {
    this.forget(runId);
    await this.load([runId], true);
    const state = this.stateOf(runId);
    if (state.kind === "shredded") {
      throw new RunShreddedError(
        `cannot ${doing} run '${runId}': it was shredded at ${new Date(state.at).toISOString()}, ` +
          "and its payloads can no longer be read",
      );
    }
  }

  /** Drops what is known of a run (its key was shredded or rewrapped). */
  forget(runId: string): void {
    const c = this.runs.get(runId);
    if (c === undefined) return;
    this.runs.delete(runId);
    if (c.state.kind === "key") this.byId.delete(c.state.key.id);
  }

  private remember(record: RunKeyRecord, opened: DataKey | null): void {
    if (record.wrapped === null) {
      this.set(record.runId, { kind: "shredded", at: record.shreddedAt ?? 0 });
      return;
    }
    const c = this.runs.get(record.runId);
    const key =
      opened ??
      (c?.state.kind === "key" && c.state.wrapped === record.wrapped
        ? c.state.key
        : this.codec.unwrapDataKey(record.wrapped));
    this.set(record.runId, { kind: "key", key, wrapped: record.wrapped });
  }

  private set(runId: string, state: RunKeyState): void {
    this.forget(runId);
    this.runs.set(runId, { state, readAtMs: this.nowMs() });
    if (state.kind === "key") this.byId.set(state.key.id, state.key);
    while (this.runs.size > this.cachedMax) {
      const oldest = this.runs.keys().next().value as string;
      this.forget(oldest);
    }
  }
}
