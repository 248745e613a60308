// Crash exploration: runs a workflow once in memory, then recovers it from every prefix of
// its journal (every point a crash could have cut it), and checks each recovery ends the same.
import { ensureError } from "../core/errors.js";
import type { JournalEntry, NewEntry } from "../core/journal.js";
import { RunExecution } from "../core/run-execution.js";
import type { RunOutcome } from "../core/run-port.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import type { Workflow } from "../core/workflow.js";
import { MemoryPort, type WaitAnswer } from "./memory-port.js";

/** Recoveries tried at the most; longer journals are sampled evenly. */
export const EXPLORE_RECOVERIES_MAX_DEFAULT = 500;

/** Options of {@link exploreCrashes}. */
export interface ExploreOptions {
  /** How waits end: the data of the event or signal (or `true`/`false` for an approval).
   * Null or undefined leaves the wait to its timeout. */
  answer?: WaitAnswer;
  /** Recoveries to try at the most. Default 500. */
  maxRecoveries?: number;
}

/** What an exploration found. */
export interface CrashExploration<O> {
  readonly outcome: "completed" | "failed";
  readonly output: O | undefined;
  readonly error: Error | undefined;
  readonly journalLength: number;
  readonly recoveries: number;
}

/** A recovery ended differently from the uninterrupted run. */
export class CrashExplorationError extends Error {
  override name = "CrashExplorationError";
}

interface Execution {
  readonly outcome: RunOutcome;
  readonly entries: NewEntry[];
}

async function execute(
  workflow: Workflow<unknown, unknown>,
  input: unknown,
  journal: JournalEntry[],
  answer: WaitAnswer | undefined,
): Promise<Execution> {
  const port = new MemoryPort(answer === undefined ? { journal } : { answer, journal });
  const execution = new RunExecution(workflow, { runId: "explored-run", input, journal }, port);
  const outcome = await execution.outcome;
  port.commit();
  return {
    outcome,
    entries: [
      ...journal.map(({ seq: _s, runId: _r, ...e }) => e),
      ...port.committed,
      ...("entry" in outcome ? [outcome.entry] : []),
    ],
  };
}

/** How a run ended, in words that compare equal when two outcomes are the same. */
export function summary(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case "completed":
      return `completed with ${outcome.output}`;
    case "failed":
      return `failed with ${(decodeValue(outcome.error) as Error).message}`;
    case "paused":
      return `paused: ${outcome.reason}`;
    case "cancelled":
      return `${outcome.status}`;
    case "continued":
      return `continued as new: ${outcome.entry.data ?? ""}`;
    case "halted":
      return "halted";
  }
}

/**
 * Runs `workflow` with `input` in memory, then recovers it from every prefix of its journal,
 * as if the process had been killed there, and checks that every recovery ends exactly as the
 * uninterrupted run did and never runs again a step whose result was journaled. Throws a
 * {@link CrashExplorationError} that names the first recovery that did not.
 *
 * Step bodies really run (many times): give them test doubles. Sleeps pass at once. Waits end
 * as `options.answer` says.
 *
 * @example
 * ```ts
 * const report = await exploreCrashes(checkout, { cart: [1, 2] });
 * expect(report.outcome).toBe("completed");
 * ```
 */
export async function exploreCrashes<I, O>(
  workflow: Workflow<I, O>,
  input: I,
  options: ExploreOptions = {},
): Promise<CrashExploration<O>> {
  const wf = workflow as Workflow<unknown, unknown>;
  const decodedInput = decodeValue(encodeValue(input, `input of workflow '${workflow.name}'`));
  const first = await execute(wf, decodedInput, [], options.answer);
  if (first.outcome.kind !== "completed" && first.outcome.kind !== "failed") {
    throw new CrashExplorationError(
      `the uninterrupted run of '${workflow.name}' did not end: it ${summary(first.outcome)}`,
    );
  }
  const expected = summary(first.outcome);
  const cuts = cutsOf(
    first.entries.length - 1,
    options.maxRecoveries ?? EXPLORE_RECOVERIES_MAX_DEFAULT,
  );
  for (const cut of cuts) {
    const prefix = first.entries
      .slice(0, cut)
      .map((e, i) => ({ ...e, seq: i + 1, runId: "explored-run" }));
    let recovered: Execution;
    try {
      recovered = await execute(wf, decodedInput, prefix, options.answer);
    } catch (e) {
      throw new CrashExplorationError(
        `recovering after entry ${cut} of ${first.entries.length} threw: ${ensureError(e).message}`,
      );
    }
    const got = summary(recovered.outcome);
    if (got !== expected) {
      const at = prefix[cut - 1];
      throw new CrashExplorationError(
        `a crash after entry ${cut} of ${first.entries.length} (${at?.type ?? "start"}${at?.key === null || at?.key === undefined ? "" : ` ${at.key}`}) ` +
          `changes the outcome: the uninterrupted run ${expected}, the recovered one ${got}`,
      );
    }
    const settled = new Set(
      prefix
        .filter((e) => e.type === "step_succeeded" || e.type === "step_failed")
        .map((e) => e.key),
    );
    const rerun = recovered.entries
      .slice(cut)
      .find((e) => e.type === "step_attempt_started" && settled.has(e.key));
    if (rerun !== undefined) {
      throw new CrashExplorationError(
        `a crash after entry ${cut} made step '${rerun.key}' run again though its result was journaled`,
      );
    }
  }
  const output =
    first.outcome.kind === "completed" ? (decodeValue(first.outcome.output) as O) : undefined;
  const error =
    first.outcome.kind === "failed" ? (decodeValue(first.outcome.error) as Error) : undefined;
  return {
    outcome: first.outcome.kind,
    output,
    error,
    journalLength: first.entries.length,
    recoveries: cuts.length,
  };
}

/** Prefix lengths to recover from: all of 1..n, or `max` spread evenly. */
function cutsOf(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i + 1);
  return Array.from(
    { length: max },
    (_, i) => 1 + Math.round((i * (n - 1)) / Math.max(1, max - 1)),
  );
}
