// The workflows an engine knows: each version of a name registered once (the retention
// workflow's name is reserved), and looked up when a run is started by definition or by name.
import {
  DuplicateWorkflowError,
  InvalidArgumentError,
  WorkflowNotFoundError,
} from "../core/errors.js";
import { cronOf } from "../worker/starters.js";
import type { AnyWorkflow } from "./options.js";
import { GC_WORKFLOW } from "./retention.js";

/** Every registered version of every workflow, and the version new runs of each take. */
export interface Registry {
  /** By name: the version new runs take (the newest, or the chosen default). */
  readonly defaults: Map<string, AnyWorkflow>;
  /** By name, then by version (null for a workflow registered without one). */
  readonly versions: Map<string, Map<string | null, AnyWorkflow>>;
}

/**
 * Orders versions, oldest first: no version before any; then by their text, with runs of
 * digits compared as numbers (`"1.9"` before `"1.10"`, `"2"` before `"10"`).
 */
export function compareVersions(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Registers workflows, several versions of one name side by side. New runs of a name take
 * its newest version, or the one `defaults` names. Throws on a name registered twice with the
 * same version, a reserved name, an invalid schedule, or a default that is not registered.
 */
export function registerWorkflows(
  workflows: readonly AnyWorkflow[],
  defaults: Readonly<Record<string, string>> = {},
): Registry {
  const versions = new Map<string, Map<string | null, AnyWorkflow>>();
  for (const wf of workflows) {
    const version = wf.options.version ?? null;
    let byVersion = versions.get(wf.name);
    if (byVersion === undefined)
      versions.set(wf.name, (byVersion = new Map<string | null, AnyWorkflow>()));
    if (byVersion.has(version)) {
      throw new DuplicateWorkflowError(
        version === null
          ? `two workflows are registered under the name '${wf.name}' without a version; ` +
              "give each a different `version` to register them side by side, or rename one"
          : `two workflows are registered under the name '${wf.name}' with version ` +
              `'${version}'; each version of a workflow is registered once`,
      );
    }
    if (wf.name === GC_WORKFLOW)
      throw new DuplicateWorkflowError(
        `the workflow name '${GC_WORKFLOW}' is reserved for retention`,
      );
    cronOf(wf);
    byVersion.set(version, wf);
  }
  const chosen = new Map<string, AnyWorkflow>();
  for (const [name, version] of Object.entries(defaults)) {
    const wf = versions.get(name)?.get(version);
    if (wf === undefined) {
      const known = versions.has(name)
        ? `it registers versions ${listVersions(versions.get(name)!)}`
        : `no workflow '${name}' is registered`;
      throw new InvalidArgumentError(
        `defaultVersions names version '${version}' of workflow '${name}', but ${known}; ` +
          "register that version or name a registered one",
      );
    }
    chosen.set(name, wf);
  }
  const result = new Map<string, AnyWorkflow>();
  for (const [name, byVersion] of versions) {
    const newest = [...byVersion.entries()].sort(([a], [b]) => compareVersions(a, b)).pop();
    result.set(name, chosen.get(name) ?? (newest as [string | null, AnyWorkflow])[1]);
  }
  return { defaults: result, versions };
}

/** The registered versions of one workflow, oldest first: `'1', '2'` (`(none)`: no version). */
export function listVersions(byVersion: ReadonlyMap<string | null, unknown>): string {
  return [...byVersion.keys()]
    .sort(compareVersions)
    .map((v) => (v === null ? "(none)" : `'${v}'`))
    .join(", ");
}

/**
 * The workflow to start: a registered name, or a definition. With a worker, a definition must
 * be the one registered under its name (the worker executes only those).
 */
export function resolveWorkflow(
  registry: Registry,
  workflow: AnyWorkflow | string,
  hasWorker: boolean,
): AnyWorkflow {
  const registered = registry.defaults;
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
  const version = workflow.options?.version ?? null;
  if (hasWorker && registry.versions.get(workflow.name)?.get(version) !== workflow) {
    const byVersion = registry.versions.get(workflow.name);
    if (byVersion === undefined || byVersion.get(version) !== undefined)
      throw new WorkflowNotFoundError(unknownMessage(registered, workflow.name));
    throw new WorkflowNotFoundError(
      `version ${version === null ? "(none)" : `'${version}'`} of workflow '${workflow.name}' ` +
        `is not registered on this engine (its registered versions: ${listVersions(byVersion)}); ` +
        "pass it in createEngine({ workflows: [...] })",
    );
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
