// Updates: `engine.update(runId, name, args)` checks the arguments with the handler's
// validator against the run's state (live, or a replay that writes nothing), then delivers the
// update as a signal the run reads in journal order, and waits for the outcome the run
// journals under the update's id. Sent again with the same id, it is not run again: the first
// outcome is returned.
import { randomUUID } from "node:crypto";
import { readEntryData } from "../core/entry-data.js";
import { RunFinishedError, RunNotFoundError } from "../core/errors.js";
import type { JournalEntry } from "../core/journal.js";
import { RESULT_POLL_MS_MAX } from "../core/limits.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import { checkRunId } from "../core/text.js";
import { TERMINAL_STATUSES } from "../core/types.js";
import { UPDATE_SIGNAL, updateStepName, type UpdateOutcome } from "../core/updates.js";
import { checkName } from "../core/workflow.js";
import { sendSignal, type MessageParts } from "./messages.js";
import { withExecution, type QueryParts } from "./query.js";

/** Options of `engine.update`. */
export interface UpdateSendOptions {
  /**
   * The update's id (default: a new UUID). Send a retry with the same id: the run delivers an
   * id once, and the caller gets the first delivery's outcome.
   */
  id?: string;
  /** Stops waiting for the outcome (the update is delivered all the same). */
  signal?: AbortSignal;
}

/** Sends update `name` with `args` to run `runId` and returns the handler's result. */
export async function updateRun(
  parts: QueryParts & { messages: MessageParts },
  runId: string,
  name: string,
  args: unknown,
  options: UpdateSendOptions,
): Promise<unknown> {
  checkRunId(runId);
  checkName(name, "update name");
  const id = options.id ?? randomUUID();
  checkName(id, "update id");
  const given = decodeValue(encodeValue(args, `update '${name}' args`));
  const step = `${updateStepName(id)}#1`;
  const answered = outcomeIn(await parts.store.readJournal(runId), step);
  if (answered !== null) return settle(answered);
  const run = await parts.store.getRun(runId);
  if (run === null) throw new RunNotFoundError(`cannot update: no run has the id '${runId}'`);
  if (TERMINAL_STATUSES.has(run.status)) {
    throw new RunFinishedError(
      `cannot update run ${runId}: it has ended (${run.status}); updates reach running or waiting runs only`,
    );
  }
  // A refusal journals nothing: the validator runs here, against the run's state.
  await withExecution(parts, runId, run, (execution) => execution.validateUpdate(name, given));
  await sendSignal(parts.messages, runId, UPDATE_SIGNAL, { id, name, args: given });
  let delayMs = 10;
  for (;;) {
    options.signal?.throwIfAborted();
    const outcome = outcomeIn(await parts.store.readJournal(runId), step);
    if (outcome !== null) return settle(outcome);
    const now = await parts.store.getRun(runId);
    if (now === null || TERMINAL_STATUSES.has(now.status)) {
      throw new RunFinishedError(
        `run ${runId} ended (${now?.status ?? "deleted"}) before it answered update '${name}' (id ${id})`,
      );
    }
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(delayMs * 2, RESULT_POLL_MS_MAX);
  }
}

function outcomeIn(journal: readonly JournalEntry[], step: string): UpdateOutcome | null {
  const entry = journal.find(
    (e) =>
      // After the first journal segment keys end with `@<segment>` (see ctx.continueAsNew).
      (e.key === step || e.key?.replace(/@\d+$/, "") === step) &&
      (e.type === "step_succeeded" || e.type === "step_failed"),
  );
  if (entry === undefined) return null;
  if (entry.type === "step_failed")
    return { ok: false, error: readEntryData(entry, "step_failed").error };
  return readEntryData(entry, "step_succeeded").result as UpdateOutcome;
}

function settle(outcome: UpdateOutcome): unknown {
  if (outcome.ok) return outcome.result;
  throw outcome.error;
}
