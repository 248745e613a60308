// Loads the workflows a worker executes from a JavaScript module.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { InvalidArgumentError } from "../core/errors.js";
import type { AnyWorkflow } from "../engine/options.js";

function isWorkflow(value: unknown): value is AnyWorkflow {
  const w = value as Partial<AnyWorkflow> | null;
  return (
    typeof w === "object" &&
    w !== null &&
    typeof w.name === "string" &&
    typeof w.fn === "function" &&
    typeof w.options === "object"
  );
}

/**
 * Imports `path` and collects the workflows it exports: named exports that are workflows,
 * and a default export that is a workflow or an array of them.
 */
export async function loadWorkflows(path: string): Promise<AnyWorkflow[]> {
  let module: Record<string, unknown>;
  try {
    if (/\.[cm]?tsx?$/.test(path)) await registerTypeScript(path);
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot load the workflows module ${path}: ${(e as Error).message}. It must be JavaScript ` +
        "(compile TypeScript first, or run endure with node --import tsx)",
      { cause: e },
    );
  }
  const found = new Map<string, AnyWorkflow>();
  const add = (value: unknown): void => {
    if (isWorkflow(value) && !found.has(value.name)) found.set(value.name, value);
  };
  for (const [name, value] of Object.entries(module)) {
    if (name === "default" && Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  if (found.size === 0) {
    throw new InvalidArgumentError(
      `the module ${path} exports no workflows; export them (export const wf = workflow(...)) or ` +
        "export default an array of them",
    );
  }
  return [...found.values()];
}

/** Lets Node import TypeScript modules through tsx, when the project has it installed. */
async function registerTypeScript(path: string): Promise<void> {
  let api: { register: () => unknown };
  try {
    api = await import("tsx/esm/api");
  } catch {
    throw new InvalidArgumentError(
      `${path} is TypeScript: install tsx in the project (npm install -D tsx) or compile it first`,
    );
  }
  api.register();
}
