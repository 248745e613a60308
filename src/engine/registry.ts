// The workflows an engine knows: registered once with unique names (the retention workflow's
// is reserved), and looked up when a run is started by definition or by name.
import {
  DuplicateWorkflowError,
  InvalidArgumentError,
  WorkflowNotFoundError,
} from "../core/errors.js";
import { cronOf } from "../worker/starters.js";
import type { AnyWorkflow } from "./options.js";
import { GC_WORKFLOW } from "./retention.js";

/** The workflows by name; throws on a duplicate name, a reserved one, or an invalid schedule. */
export function registerWorkflows(workflows: readonly AnyWorkflow[]): Map<string, AnyWorkflow> {
  const registered = new Map<string, AnyWorkflow>();
  for (const wf of workflows) {
    if (registered.has(wf.name)) {
      throw new DuplicateWorkflowError(
        `two workflows are registered under the name '${wf.name}'; workflow names must be unique`,
      );
    }
    if (wf.name === GC_WORKFLOW)
      throw new DuplicateWorkflowError(
        `the workflow name '${GC_WORKFLOW}' is reserved for retention`,
      );
    cronOf(wf);
    registered.set(wf.name, wf);
  }
  return registered;
}

/**
 * The workflow to start: a registered name, or a definition. With a worker, a definition must
 * be the one registered under its name (the worker executes only those).
 */
export function resolveWorkflow(
  registered: ReadonlyMap<string, AnyWorkflow>,
  workflow: AnyWorkflow | string,
  hasWorker: boolean,
): AnyWorkflow {
  if (typeof workflow === "string") {
    const wf = registered.get(workflow);
    if (wf === undefined) throw new WorkflowNotFoundError(unknownMessage(registered, workflow));
    return wf;
  }
  if (typeof workflow !== "object" || workflow === null || typeof workflow.name !== "string") {
    throw new InvalidArgumentError(
      "start needs a workflow (made with workflow()) or a registered workflow name",
    );
  }
  if (hasWorker && registered.get(workflow.name) !== workflow) {
    throw new WorkflowNotFoundError(unknownMessage(registered, workflow.name));
  }
  return workflow;
}

function unknownMessage(registered: ReadonlyMap<string, AnyWorkflow>, name: string): string {
  const known =
    [...registered.keys()]
      .filter((n) => n !== GC_WORKFLOW)
      .map((n) => `'${n}'`)
      .join(", ") || "none";
  return `no workflow '${name}' is registered on this engine (registered: ${known}); pass it in createEngine({ workflows: [...] })`;
}
