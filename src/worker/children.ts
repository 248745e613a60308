// Child runs on the worker's side: which registered workflow a child takes, with its input
// checked, and the run to create for it with its parent's commit.
import { entryData } from "../core/entry-data.js";
import { parseDuration } from "../core/duration.js";
import {
  InputValidationError,
  InvalidArgumentError,
  WorkflowNotFoundError,
} from "../core/errors.js";
import { concurrencyKeyOf } from "../core/flow-control.js";
import { PRIORITY_DEFAULT } from "../core/limits.js";
import type { ChildRequest, ChildWorkflow } from "../core/run-port.js";
import { decodeValue } from "../core/serialize.js";
import type { Workflow } from "../core/workflow.js";
import type { RunCreate } from "../store/store.js";

/** The workflows a worker executes: by name the version new runs take, and every version. */
export interface WorkerRegistry {
  readonly defaults: ReadonlyMap<string, Workflow<unknown, unknown>>;
  readonly versions: ReadonlyMap<string, ReadonlyMap<string | null, Workflow<unknown, unknown>>>;
}

/**
 * The registered workflow `workflow` (a definition or a name) names, with `input` checked
 * against its schema; throws when this worker does not register it or the input fails.
 */
export function resolveChild(
  registry: WorkerRegistry,
  workflow: unknown,
  input: unknown,
): ChildWorkflow {
  const wf = registeredOf(registry, workflow);
  const schema = wf.options.input;
  if (schema === undefined) return { name: wf.name, version: wf.options.version ?? null, input };
  const result = schema["~standard"].validate(input);
  if (result instanceof Promise) {
    throw new InvalidArgumentError(
      `the input schema of workflow '${wf.name}' validates asynchronously, which a child run's ` +
        "start cannot wait for; give it a synchronous schema, or start the run with engine.start",
    );
  }
  if (result.issues !== undefined) {
    const issues = result.issues.map((i) => i.message).join("; ");
    throw new InputValidationError(
      `input of child workflow '${wf.name}' fails its schema: ${issues}; nothing was started`,
    );
  }
  return { name: wf.name, version: wf.options.version ?? null, input: result.value };
}

function registeredOf(registry: WorkerRegistry, workflow: unknown): Workflow<unknown, unknown> {
  if (typeof workflow === "string") {
    const wf = registry.defaults.get(workflow);
    if (wf === undefined) throw notRegistered(registry, workflow);
    return wf;
  }
  const def = workflow as Workflow<unknown, unknown> | null;
  if (typeof def !== "object" || def === null || typeof def.name !== "string") {
    throw new InvalidArgumentError(
      "a child run needs a workflow (made with workflow()) or a registered workflow name",
    );
  }
  const version = def.options?.version ?? null;
  const wf = registry.versions.get(def.name)?.get(version);
  if (wf === undefined) throw notRegistered(registry, def.name, version);
  return wf;
}

function notRegistered(
  registry: WorkerRegistry,
  name: string,
  version?: string | null,
): WorkflowNotFoundError {
  const which =
    version === undefined || !registry.versions.has(name)
      ? `workflow '${name}'`
      : `version ${version === null ? "(none)" : `'${version}'`} of workflow '${name}'`;
  return new WorkflowNotFoundError(
    `a child run of ${which} cannot start: this engine does not register it (it registers ` +
      `${[...registry.defaults.keys()].join(", ") || "no workflow"}). Pass it in ` +
      "createEngine({ workflows: [...] }) of every engine that runs its parent",
  );
}

/** The run to create for `child` of run `parentId`, pending for any worker. */
export function childRunCreate(
  registry: WorkerRegistry,
  child: ChildRequest,
  parentId: string,
  now: number,
  trace: string | null,
): RunCreate {
  const wf = registry.versions.get(child.workflow)?.get(child.version);
  if (wf === undefined) throw notRegistered(registry, child.workflow, child.version);
  return {
    id: child.runId,
    workflow: child.workflow,
    version: child.version,
    input: child.input,
    started: {
      type: "run_started",
      at: now,
      position: null,
      key: null,
      data: entryData.run_started({
        workflow: child.workflow,
        version: child.version,
        ...(trace === null ? {} : { trace }),
      }),
    },
    claim: null,
    priority: wf.options.priority ?? PRIORITY_DEFAULT,
    concurrencyKey: concurrencyKeyOf(wf.options.concurrency, decodeValue(child.input), wf.name),
    deadlineAt: wf.options.ttl === undefined ? null : now + parseDuration(wf.options.ttl, "ttl"),
    parent: { runId: parentId, detached: child.detached },
  };
}
