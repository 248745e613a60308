// Queries: `engine.query(runId, name, args)` answers a handler the run registered with
// `ctx.onQuery`, from its current state: from the live run when this engine holds it in
// memory, otherwise by a replay of its journal that executes nothing and writes nothing.
import { readEntryData } from "../core/entry-data.js";
import { RunNotFoundError, WorkflowNotFoundError } from "../core/errors.js";
import type { JournalEntry } from "../core/journal.js";
import { journalForReplay } from "../core/retry-journal.js";
import { latestSegment, segmentInput } from "../core/segments.js";
import { RunExecution } from "../core/run-execution.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import { checkRunId } from "../core/text.js";
import type { Workflow } from "../core/workflow.js";
import { checkName } from "../core/workflow.js";
import type { RunRecord, Store } from "../store/store.js";
import { MemoryPort } from "../testing/memory-port.js";
import type { Worker } from "../worker/worker.js";

/** Turns of the event loop without progress after which a query's replay has caught up with
 * the journal: 5, as for `replayJournal`. */
export const QUERY_REPLAY_IDLE_TURNS = 5;

/** What answering a query needs of the engine. */
export interface QueryParts {
  readonly store: Store;
  /** The registered workflow that executes `run` (its name and version), if any. */
  readonly workflowOf: (run: RunRecord) => Workflow<unknown, unknown> | undefined;
  readonly worker: Worker | null;
}

/** Answers query `name` of run `runId` with `args`; the answer is a copy (serialized). */
export async function queryRun(
  parts: QueryParts,
  runId: string,
  name: string,
  args: unknown,
): Promise<unknown> {
  checkRunId(runId);
  checkName(name, "query name");
  const given = decodeValue(encodeValue(args, `query '${name}' args`));
  return withExecution(parts, runId, null, (execution) => copy(execution.query(name, given), name));
}

/**
 * Calls `use` with the run's execution: the live one when this engine holds the run in memory,
 * else a replay of its journal caught up with it, which executes and writes nothing. `run`
 * is the run as read already, if it was.
 */
export async function withExecution<T>(
  parts: QueryParts,
  runId: string,
  run: RunRecord | null,
  use: (execution: RunExecution) => T,
): Promise<T> {
  const live = parts.worker?.execution(runId) ?? null;
  if (live !== null && !live.ended) {
    // Just claimed, the run may still be replaying its journal: let it catch up first.
    if (live.replaying) await caughtUp(live);
    if (!live.ended) return use(live);
  }
  const record = run ?? (await parts.store.getRun(runId));
  if (record === null) throw new RunNotFoundError(`no run with id '${runId}'`);
  const wf = parts.workflowOf(record);
  if (wf === undefined) {
    const version = record.version === null ? "" : ` version '${record.version}'`;
    throw new WorkflowNotFoundError(
      `run ${runId} is of workflow '${record.workflow}'${version}, which this engine does not ` +
        "register; register it (createEngine({ workflows })) to ask runs that are not in its memory",
    );
  }
  const journal = await parts.store.readJournal(runId, "segment");
  const input = segmentInput(latestSegment(journal), () => decodeValue(record.input));
  const execution = replayOf(wf, runId, input, journal);
  try {
    const outcome = await Promise.race([execution.outcome, caughtUp(execution)]);
    if (outcome !== null && outcome.kind === "paused") {
      // The code no longer matches the journal: its state cannot be known.
      throw readEntryData(outcome.entry, "run_paused").error;
    }
    return use(execution);
  } finally {
    execution.halt(null);
  }
}

/** A replay of `journal` that answers every operation from it and executes nothing. */
function replayOf(
  wf: Workflow<unknown, unknown>,
  runId: string,
  input: unknown,
  journal: readonly JournalEntry[],
): RunExecution {
  return new RunExecution(
    wf,
    { runId, input, journal: journalForReplay(journal) },
    new MemoryPort({ journal }),
    { frontier: () => {} },
  );
}

/** Resolves null once the replay has handed the code everything and the code stopped asking. */
async function caughtUp(execution: RunExecution): Promise<null> {
  let idle = 0;
  let calls = -1;
  while (idle < QUERY_REPLAY_IDLE_TURNS) {
    await new Promise((r) => setImmediate(r));
    if (execution.ended) return null;
    const busy = execution.replaying || execution.calls !== calls;
    calls = execution.calls;
    idle = busy ? 0 : idle + 1;
  }
  return null;
}

function copy(value: unknown, name: string): unknown {
  return decodeValue(encodeValue(value, `query '${name}' result`));
}
