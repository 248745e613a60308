// An engine for users' tests: a real SQLite store in a temporary directory (removed on close),
// a virtual clock, retention off, warnings collected, and helpers that move time, send events
// and decide approvals.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApprovalNotFoundError } from "../core/errors.js";
import { Engine, type RunHandle } from "../engine/engine.js";
import type { SentEvent } from "../engine/messages.js";
import type { EngineOptions } from "../engine/options.js";
import type { Store } from "../store/store.js";
import { sqliteStore } from "../store/sqlite/index.js";
import { createTestClock, type TestClock } from "./test-clock.js";

/** Real time between two looks at a run in {@link TestEngine.runToEnd}, in ms. */
export const TEST_IDLE_CHECK_MS = 10;
/** Times {@link TestEngine.runToEnd} moves the clock at the most before giving up. */
export const TEST_ADVANCES_MAX = 10_000;
/** Real time {@link TestEngine.approve} waits for the approval to open, in ms. */
export const TEST_APPROVAL_WAIT_MS = 10_000;

/** Options of {@link createTestEngine}: those of `createEngine`, all optional. */
export interface TestEngineOptions extends Omit<EngineOptions, "store" | "clock"> {
  /** A store of your own (opened and closed by the engine); default a new SQLite file in a
   * temporary directory, deleted by `close()`. */
  store?: Store;
  /** Where virtual time starts. Default 2026-01-01T00:00:00Z. */
  startAt?: Date | number;
}

/**
 * An {@link Engine} on a virtual clock, for tests. Everything an engine does works the same
 * (runs are journaled in a real SQLite file, long waits evict the run and resume it by
 * replay); only time moves when the test says so, with {@link TestEngine.advance}, or as far
 * as a run needs, with {@link TestEngine.runToEnd}.
 */
export class TestEngine extends Engine {
  declare readonly clock: TestClock;
  /** Warnings the engine logged, in order. */
  readonly warnings: string[];
  /** The temporary directory of the store this engine made, or null for a store of yours. */
  readonly directory: string | null;
  private events = 0;

  /** Use {@link createTestEngine}. */
  constructor(
    options: EngineOptions & { clock: TestClock },
    warnings: string[],
    dir: string | null,
  ) {
    super(options);
    this.warnings = warnings;
    this.directory = dir;
  }

  /**
   * Moves virtual time forward by `duration`, firing due timers in order: sleeps end, waits
   * time out, retries and schedules come due.
   *
   * @example
   * ```ts
   * const run = await t.start(reminder, { to: "ana" });
   * await t.advance("2d");
   * expect((await run.info()).status).toBe("completed");
   * ```
   */
  advance(duration: string | number): Promise<void> {
    return this.clock.advance(duration);
  }

  /**
   * Waits for the run to end, moving virtual time whenever the run waits for it: to the end
   * of its sleep or the timeout of its wait when it is evicted, to its next timer (a retry's
   * backoff, a short sleep kept in memory) when it is idle. Returns its output or throws its
   * error, as `handle.result()` does. Send the events and decisions it needs first (events
   * are kept for waits that begin later), or its waits time out.
   *
   * @example
   * ```ts
   * const run = await t.start(onboarding, { user: "ana" });   // sleeps 3 days, then emails
   * expect(await t.runToEnd(run)).toEqual({ emailed: true });
   * ```
   */
  async runToEnd<O>(run: RunHandle<O>): Promise<O> {
    let ended = false;
    const result = run.result().finally(() => (ended = true));
    result.catch(() => {});
    let lastLength = -1;
    for (let i = 0; i < TEST_ADVANCES_MAX && !ended;) {
      await new Promise((r) => setTimeout(r, TEST_IDLE_CHECK_MS));
      if (ended) break;
      const info = await this.getRun(run.id);
      if (info === null) break;
      if (info.status === "waiting" && info.wakeAt !== null) {
        await this.clock.advance(Math.max(0, info.wakeAt.getTime() - this.clock.now()));
        i++;
        continue;
      }
      // Idle in memory: nothing journaled since the last look, and a timer pending.
      const length = (await this.journal(run.id)).length;
      const next = this.clock.nextTimerAt();
      if (info.status === "running" && length === lastLength && next !== null) {
        await this.clock.advance(Math.max(0, next - this.clock.now()));
        i++;
      }
      lastLength = length;
    }
    return result;
  }

  /**
   * Sends an event (an id is made up when none is given), as `engine.sendEvent` does.
   *
   * @example
   * ```ts
   * await t.event("email.replied", { threadId: "t-9" });
   * ```
   */
  event(name: string, data?: unknown, id?: string): Promise<SentEvent> {
    return this.sendEvent({ name, data, id: id ?? `test-event-${++this.events}` });
  }

  /**
   * Decides the run's approval `name` once it is open (waiting for it in real time), as the
   * person `by` (default `"tester"`): approved unless `approved` is false.
   *
   * @example
   * ```ts
   * const run = await t.start(publish, { draft });
   * await t.decide(run.id, "publish", true);
   * expect(await t.runToEnd(run)).toBe("published");
   * ```
   */
  async decide(
    runId: string,
    name: string,
    approved = true,
    options: { by?: string; comment?: string } = {},
  ): Promise<"recorded" | "settled"> {
    const decision = {
      by: options.by ?? "tester",
      ...(options.comment === undefined ? {} : { comment: options.comment }),
    };
    const deadline = Date.now() + TEST_APPROVAL_WAIT_MS;
    for (;;) {
      const open = await this.approvals({ runId });
      if (open.some((a) => a.name === name))
        return approved ? this.approve(runId, name, decision) : this.reject(runId, name, decision);
      if (Date.now() > deadline)
        throw new ApprovalNotFoundError(
          `run '${runId}' opened no approval '${name}' within ${TEST_APPROVAL_WAIT_MS} ms`,
        );
      await new Promise((r) => setTimeout(r, TEST_IDLE_CHECK_MS));
    }
  }

  /** Closes the engine and deletes its temporary store. */
  override async close(): Promise<void> {
    await super.close();
    if (this.directory !== null) rmSync(this.directory, { recursive: true, force: true });
  }
}

/**
 * Creates an engine for tests: a new SQLite store in a temporary directory (or `options.store`),
 * a virtual clock, retention off, warnings kept in `engine.warnings`. Close it after the test.
 *
 * @example
 * ```ts
 * import { createTestEngine } from "endure/testing";
 *
 * const t = await createTestEngine({ workflows: [reminder] });
 * const run = await t.start(reminder, { to: "ana" });    // sleeps 7 days
 * expect(await t.runToEnd(run)).toBe("reminded");         // in milliseconds
 * await t.close();
 * ```
 */
export async function createTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const { store, startAt, ...rest } = options;
  const dir = store === undefined ? mkdtempSync(join(tmpdir(), "endure-test-engine-")) : null;
  const warnings: string[] = [];
  const start = startAt === undefined ? undefined : new Date(startAt).getTime();
  const engine = new TestEngine(
    {
      gcSchedule: null,
      logger: { warn: (m) => warnings.push(m) },
      ...rest,
      store: store ?? sqliteStore(join(dir ?? "", "test.db"), { durability: "process" }),
      clock: createTestClock(start),
    },
    warnings,
    dir,
  );
  try {
    await engine.open();
  } catch (e) {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return engine;
}
