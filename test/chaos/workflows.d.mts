// Types of workflows.mjs, for the TypeScript side of the chaos harness.
import type { Workflow } from "endure";

/** A chaos workflow: inputs differ by kind. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one list holds every kind
type AnyWorkflow = Workflow<any, any>;

export const KINDS: readonly string[];
export const SIDE_TABLE_SQL: string;
export const TX_TABLE_SQL: string;
export function chaosWorkflows(options: {
  logPath: string;
  sidePath: string;
  worker: string;
}): AnyWorkflow[];
export function workflowOf(kind: string): string;
export function expectedOutput(kind: string, input: Record<string, unknown>): unknown;
