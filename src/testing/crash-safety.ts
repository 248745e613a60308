// Crash safety of a user's workflow: run it once, then once per journal boundary with a
// crash there (the steps before it really ran, their effects stay in the test doubles, the
// entries after it were never committed), recover, and compare. Unlike exploreCrashes, the
// crashed part really executes, so a step whose effect is not idempotent shows up.
import { ensureError, InvalidArgumentError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { RunExecution } from "../core/run-execution.js";
import type { RunOutcome } from "../core/run-port.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import type { Workflow } from "../core/workflow.js";
import { summary as describeOutcome } from "./explore.js";
import { MemoryPort, type WaitAnswer } from "./memory-port.js";

/** Crash points tried at the most by default; longer journals are sampled evenly. */
export const CRASH_POINTS_MAX_DEFAULT = 200;
/** Turns of the event loop a crashed execution's running bodies get to settle. */
const CRASH_SETTLE_TURNS = 20;
const RUN_ID = "crash-checked-run";

/** Options of {@link checkCrashSafety}. */
export interface CrashSafetyOptions {
  /**
   * Called before every execution (the uninterrupted one, and each crashed one before its
   * recovery): put the test doubles your step bodies talk to back in their first state.
   * Effects a crashed execution had before its crash stay there for the recovery, as in a
   * real outage.
   */
  reset?: () => void | Promise<void>;
  /** How waits end: the data of the event or signal, `true`/`false` for an approval. */
  answer?: WaitAnswer;
  /** Crash points to try at the most. Default 200. */
  maxCrashPoints?: number;
}

/** One crash point where the workflow misbehaved. */
export interface CrashSafetyProblem {
  /** Entries committed before the crash. */
  readonly crashAfter: number;
  /** The last committed entry before the crash, such as `step_succeeded charge#1`. */
  readonly after: string;
  readonly kind: "outcome_differs" | "step_ran_again" | "recovery_failed";
  readonly message: string;
}

/** What {@link checkCrashSafety} found. */
export interface CrashSafetyReport {
  /** True when no crash point misbehaved. */
  readonly ok: boolean;
  /** How the uninterrupted run ended, and with what (decoded). */
  readonly outcome: "completed" | "failed";
  readonly output: unknown;
  /** Crash points tried. */
  readonly crashPoints: number;
  readonly problems: readonly CrashSafetyProblem[];
  /** One line per problem, or "crash-safe at N crash points". */
  readonly summary: string;
}

/**
 * Checks that `workflow` with `input` survives a crash at every journal boundary: it runs the
 * workflow once uninterrupted, then, for each boundary, runs it again until that many entries
 * are committed, crashes it there (bodies that had run keep their effects; the next commit
 * never happens) and recovers it from the committed journal. It reports every crash point
 * where the recovered run ends differently (a step that is not idempotent: its effect
 * happened twice) or runs again a step whose result was committed.
 *
 * Bodies really run, many times: give them test doubles, reset by `options.reset`. Sleeps
 * pass at once; waits end as `options.answer` says. Works with any test runner.
 *
 * @example
 * ```ts
 * const report = await checkCrashSafety(checkout, { orderId: "o-1", amount: 30 }, {
 *   reset: () => payments.clear(),
 * });
 * expect(report.problems).toEqual([]);          // vitest
 * assert.ok(report.ok, report.summary);         // node:test
 * ```
 */
export async function checkCrashSafety<I, O>(
  workflow: Workflow<I, O>,
  input: I,
  options: CrashSafetyOptions = {},
): Promise<CrashSafetyReport> {
  const wf = workflow as Workflow<unknown, unknown>;
  const decoded = decodeValue(encodeValue(input, `input of workflow '${workflow.name}'`));
  await options.reset?.();
  const first = await execute(wf, decoded, [], options.answer, null);
  if (first.outcome.kind !== "completed" && first.outcome.kind !== "failed")
    throw new InvalidArgumentError(
      `the uninterrupted run of '${workflow.name}' did not end (${first.outcome.kind}); ` +
        "give options.answer for its waits",
    );
  const expected = describeOutcome(first.outcome);
  const points = crashPoints(first.committed.length, options.maxCrashPoints);
  const problems: CrashSafetyProblem[] = [];
  for (const cut of points) {
    await options.reset?.();
    const crashed = await execute(wf, decoded, [], options.answer, cut);
    const prefix = crashed.committed.slice(0, cut);
    const last = prefix.at(-1);
    const after = last === undefined ? "the start" : `${last.type} ${last.key ?? ""}`.trim();
    const problem = (kind: CrashSafetyProblem["kind"], message: string): void =>
      void problems.push({ crashAfter: cut, after, kind, message });
    let recovered: Execution;
    try {
      const journal = prefix.map((e, i) => ({ ...e, seq: i + 1, runId: RUN_ID }));
      recovered = await execute(wf, decoded, journal, options.answer, null);
    } catch (e) {
      problem("recovery_failed", `recovering threw: ${ensureError(e).message}`);
      continue;
    }
    const got = describeOutcome(recovered.outcome);
    if (got !== expected)
      problem(
        "outcome_differs",
        `the uninterrupted run ${expected}; after a crash after ${after} the run ${got}`,
      );
    const settled = new Set(prefix.filter((e) => e.type === "step_succeeded").map((e) => e.key));
    const again = recovered.committed.find(
      (e) => e.type === "step_succeeded" && settled.has(e.key),
    );
    if (again !== undefined)
      problem("step_ran_again", `step '${again.key}' ran again though its result was committed`);
  }
  const summary =
    problems.length === 0
      ? `'${workflow.name}' is crash-safe at ${points.length} crash points`
      : problems
          .map((p) => `crash after entry ${p.crashAfter} (${p.after}): ${p.message}`)
          .join("\n");
  return {
    ok: problems.length === 0,
    outcome: first.outcome.kind,
    output:
      first.outcome.kind === "completed"
        ? decodeValue(first.outcome.output)
        : decodeValue(first.outcome.error),
    crashPoints: points.length,
    problems,
    summary,
  };
}

interface Execution {
  readonly outcome: RunOutcome;
  readonly committed: readonly NewEntry[];
}

/** A memory port that crashes once `limit` entries are committed: later commits never land. */
class CrashingPort extends MemoryPort {
  crashed = false;
  private readonly limit: number | null;
  private readonly onCrash: () => void;
  constructor(
    options: ConstructorParameters<typeof MemoryPort>[0],
    limit: number | null,
    onCrash: () => void,
  ) {
    super(options);
    this.limit = limit;
    this.onCrash = onCrash;
  }
  override commit(): void {
    super.commit();
    if (this.limit === null || this.committed.length <= this.limit) return;
    this.committed.length = this.limit;
    if (!this.crashed) {
      this.crashed = true;
      this.onCrash();
    }
  }
  override async durable(): Promise<void> {
    await super.durable();
    // A crashed process answers nothing more.
    if (this.crashed) await new Promise<never>(() => {});
  }
}

async function execute(
  workflow: Workflow<unknown, unknown>,
  input: unknown,
  journal: readonly JournalEntry[],
  answer: WaitAnswer | undefined,
  crashAfter: number | null,
): Promise<Execution> {
  let crash = (): void => {};
  const crashedSignal = new Promise<"crashed">((resolve) => (crash = () => resolve("crashed")));
  const port = new CrashingPort(
    answer === undefined ? { journal } : { answer, journal },
    crashAfter,
    crash,
  );
  const run = new RunExecution(workflow, { runId: RUN_ID, input, journal }, port);
  const first = await Promise.race([run.outcome, crashedSignal]);
  if (first === "crashed") {
    run.halt(new Error("crashed"));
    for (let i = 0; i < CRASH_SETTLE_TURNS; i++) await port.nextTurn();
    return { outcome: { kind: "halted" }, committed: [...port.committed] };
  }
  port.commit();
  return { outcome: first, committed: [...port.committed] };
}

/** Crash points: after 0..n committed entries (n: just before the run's end is written), or
 * `max` of them spread evenly. */
function crashPoints(n: number, max = CRASH_POINTS_MAX_DEFAULT): number[] {
  if (n + 1 <= max) return Array.from({ length: n + 1 }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * n) / Math.max(1, max - 1)));
}
