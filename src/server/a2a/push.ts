// Push notifications: every task with a push config is watched, and each config's URL is
// POSTed the task (as a v1.0 StreamResponse) whenever the task's state differs from the last
// one that URL acknowledged. What was told is stored with the config, so a restarted server
// picks up where it was: a receiver is told each state at least once.
import { StreamResponse } from "@a2a-js/sdk";
import type { Engine } from "../../engine/engine.js";
import { A2A_PUSH_TIMEOUT_MS } from "../limits.js";
import {
  A2A_MEMORY_NAMESPACE,
  isFinal,
  taskKey,
  taskOf,
  viewOf,
  type ServedAgent,
  type TaskRecord,
} from "./tasks.js";

/** Watches the tasks that have push configs and notifies their receivers. */
export class PushNotifier {
  private readonly watched = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly served: ReadonlyMap<string, ServedAgent>,
    private readonly pollMs: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Starts watching the tasks whose configs were stored before this server started. */
  async start(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const { keys, next } = await this.engine
        .memory(A2A_MEMORY_NAMESPACE)
        .list({ prefix: "task:", ...(after === undefined ? {} : { after }) });
      for (const k of keys) {
        const record = k.value as TaskRecord;
        if (record.push.length > 0) this.watch(k.key.slice("task:".length));
      }
      if (next === null) break;
      after = next;
    }
  }

  /** Watches `taskId` until every config was told its final state. */
  watch(taskId: string): void {
    if (this.closed) return;
    this.watched.add(taskId);
    if (this.timer === null) {
      this.timer = setInterval(() => void this.tick(), this.pollMs);
      this.timer.unref();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const taskId of [...this.watched]) {
        try {
          if (await this.notify(taskId)) this.watched.delete(taskId);
        } catch (e) {
          this.onError(e);
        }
      }
      if (this.watched.size === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Tells each config of the task its state if it changed; true once all know it ended. */
  private async notify(taskId: string): Promise<boolean> {
    const memory = this.engine.memory<TaskRecord>(A2A_MEMORY_NAMESPACE, taskKey(taskId));
    const record = await memory.get();
    const run = await this.engine.getRun(taskId);
    if (record === undefined) return true;
    // The record is written before the run: wait for the run.
    if (run === null) return false;
    if (!this.served.has(run.workflow)) return true;
    const view = await viewOf(this.engine, run);
    const task = taskOf(view, record.contextId);
    const state = String(view.state);
    const told: Record<string, string> = {};
    for (const config of record.push) {
      if (record.pushed[config.id] === state) continue;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (config.token !== "") headers["x-a2a-notification-token"] = config.token;
      if (config.authentication !== null)
        headers["authorization"] =
          `${config.authentication.scheme} ${config.authentication.credentials}`;
      try {
        const response = await fetch(config.url, {
          method: "POST",
          headers,
          body: JSON.stringify(StreamResponse.toJSON({ payload: { $case: "task", value: task } })),
          signal: AbortSignal.timeout(A2A_PUSH_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) told[config.id] = state;
      } catch {
        // Unreachable receiver: told again at the next tick.
      }
    }
    if (Object.keys(told).length > 0) {
      await memory.update((current) => ({
        contextId: current?.contextId ?? record.contextId,
        push: current?.push ?? record.push,
        pushed: { ...(current?.pushed ?? {}), ...told },
      }));
    }
    const pushed = { ...record.pushed, ...told };
    return isFinal(view.state) && record.push.every((c) => pushed[c.id] === state);
  }
}
