// Deterministic: updates of a running workflow. `ctx.onUpdate` registers a handler; updates
// reach the run as signals on one internal name, which a listener in the run's code reads in
// journal order, so a replay delivers them at the same points. Each update's outcome is
// journaled as a step named after its id: the caller reads it there, and an update whose id
// was delivered already is skipped (exactly once, also when the caller sends it again).
import { isEndureError, UpdateNotFoundError, UpdateRejectedError } from "./errors.js";
import type { UpdateOptions, WorkflowContext } from "./types.js";

export type { UpdateOptions };

/** The signal name updates travel on. */
export const UPDATE_SIGNAL = "endure.update";

/** The step an update's outcome is journaled as. */
export function updateStepName(id: string): string {
  return `endure.update ${id}`;
}

/** What travels in an update's signal. */
export interface UpdateRequest {
  readonly id: string;
  readonly name: string;
  readonly args: unknown;
}

/** An update's outcome as its step journals it. */
export type UpdateOutcome =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/** A registered update handler. */
export interface UpdateHandler {
  readonly handler: (args: unknown) => unknown;
  readonly validate: ((args: unknown) => boolean | string | void) | undefined;
}

/** Checks `args` against the handler of `name`; throws what the caller gets. */
export function validateUpdate(
  handlers: ReadonlyMap<string, UpdateHandler>,
  runId: string,
  name: string,
  args: unknown,
): void {
  const found = handlers.get(name);
  if (found === undefined) {
    const names = [...handlers.keys()];
    throw new UpdateNotFoundError(
      `run ${runId} has no update '${name}'; ` +
        (names.length === 0
          ? "it registers none (ctx.onUpdate) so far"
          : `it registers: ${names.join(", ")}`),
    );
  }
  if (found.validate === undefined) return;
  let verdict: boolean | string | void;
  try {
    verdict = found.validate(args);
  } catch (e) {
    if (isEndureError(e, "update_rejected")) throw e;
    throw new UpdateRejectedError(
      `update '${name}' of run ${runId} was rejected: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (verdict === false || typeof verdict === "string") {
    throw new UpdateRejectedError(
      `update '${name}' of run ${runId} was rejected: ${
        typeof verdict === "string" ? verdict : "its validator returned false"
      }`,
    );
  }
}

/** Reads update signals for as long as the run goes on, running each update id once. */
export async function listenForUpdates(
  ctx: WorkflowContext,
  handlers: ReadonlyMap<string, UpdateHandler>,
): Promise<void> {
  const seen = new Set<string>();
  for (;;) {
    const signal = await ctx.waitForSignal<UpdateRequest>(UPDATE_SIGNAL);
    if (signal === null) continue;
    const { id, name, args } = signal.data;
    if (seen.has(id)) continue;
    seen.add(id);
    void runUpdate(ctx, handlers, id, name, args);
  }
}

async function runUpdate(
  ctx: WorkflowContext,
  handlers: ReadonlyMap<string, UpdateHandler>,
  id: string,
  name: string,
  args: unknown,
): Promise<void> {
  let outcome: UpdateOutcome;
  try {
    // Validated by the caller; checked again, since the run's state may have moved since.
    validateUpdate(handlers, ctx.runId, name, args);
    const result = await (handlers.get(name) as UpdateHandler).handler(args);
    outcome = { ok: true, result };
  } catch (error) {
    outcome = { ok: false, error };
  }
  await ctx.step(updateStepName(id), () => outcome, { retries: 0 });
}
