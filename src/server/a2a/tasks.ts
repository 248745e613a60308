// A2A tasks are endure runs: a task's id is its run's id, derived from the id of the message
// that started it, and its state, status message and artifact are read from the run (its row,
// its explanation and its output). Nothing about a task is stored beside the run but its
// context id and its push-notification configs, in the memory namespace `endure.a2a`.
import { createHash } from "node:crypto";
import { Role, TaskState, type Artifact, type Message, type Part, type Task } from "@a2a-js/sdk";
import type { AnyWorkflow } from "../../engine/options.js";
import type { Engine } from "../../engine/engine.js";
import type { RunInfo } from "../../engine/views.js";
import { A2A_MESSAGE_EVENT, type A2AServing } from "../../core/workflow.js";

/** The memory namespace holding each A2A task's context id and push configs. */
export const A2A_MEMORY_NAMESPACE = "endure.a2a";

/** One workflow served over A2A. */
export interface ServedAgent {
  readonly name: string;
  readonly workflow: AnyWorkflow;
  readonly serving: A2AServing;
}

/** What endure keeps about a task beside its run. */
export interface TaskRecord {
  readonly contextId: string;
  readonly push: readonly PushConfig[];
  /** The last state each push config was told, by config id. */
  readonly pushed: Readonly<Record<string, string>>;
}

/** A push-notification config as stored. */
export interface PushConfig {
  readonly id: string;
  readonly url: string;
  readonly token: string;
  readonly authentication: { readonly scheme: string; readonly credentials: string } | null;
}

/** The workflows of `engine` served over A2A: agents unless `a2a: false`, others that opt in. */
export function servedAgents(engine: Engine): Map<string, ServedAgent> {
  const served = new Map<string, ServedAgent>();
  for (const workflow of engine.workflowDefinitions()) {
    const a2a = workflow.options.a2a;
    if (a2a === undefined || a2a === false) continue;
    served.set(workflow.name, {
      name: workflow.name,
      workflow,
      serving: a2a === true ? {} : a2a,
    });
  }
  return served;
}

/** The task (run) id of the message `messageId` sent to agent `name`: the same for a resend. */
export function taskIdOf(name: string, messageId: string): string {
  const digest = createHash("sha256").update(`${name}\u0000${messageId}`).digest("hex");
  return `a2a-${digest.slice(0, 32)}`;
}

/** The memory key of a task's record. */
export const taskKey = (taskId: string): string => `task:${taskId}`;

/** A text part. */
export const textPart = (text: string): Part => ({
  content: { $case: "text", value: text },
  metadata: undefined,
  filename: "",
  mediaType: "text/plain",
});

/** A data part. */
export const dataPart = (value: unknown): Part => ({
  content: { $case: "data", value },
  metadata: undefined,
  filename: "",
  mediaType: "application/json",
});

/** An agent message of a task (a status message). */
export function agentMessage(
  taskId: string,
  contextId: string,
  id: string,
  parts: Part[],
  metadata?: Record<string, unknown>,
): Message {
  return {
    messageId: id,
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts,
    metadata,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The artifact of a completed run: its text, or its output as data. */
export function artifactOf(output: unknown): Artifact {
  const text =
    typeof output === "string"
      ? output
      : typeof output === "object" &&
          output !== null &&
          typeof (output as { text?: unknown }).text === "string"
        ? (output as { text: string }).text
        : null;
  return {
    artifactId: "result",
    name: "result",
    description: "",
    parts: [text === null ? dataPart(output ?? null) : textPart(text)],
    metadata: undefined,
    extensions: [],
  };
}

/** Where a task is, read from its run. */
export interface TaskView {
  readonly state: TaskState;
  /** What the agent says with the state (the question when input is required). */
  readonly message: string | null;
  /** The approval an `input-required` task waits for, if it waits for one. */
  readonly approval: string | null;
  readonly run: RunInfo;
}

/** The A2A state of a run, with what to say and the approval it waits for. */
export async function viewOf(engine: Engine, run: RunInfo): Promise<TaskView> {
  const base = { run, approval: null };
  switch (run.status) {
    case "completed":
      return { ...base, state: TaskState.TASK_STATE_COMPLETED, message: null };
    case "failed":
      return {
        ...base,
        state: TaskState.TASK_STATE_FAILED,
        message: run.error?.message ?? "the run failed",
      };
    case "timed_out":
      return {
        ...base,
        state: TaskState.TASK_STATE_FAILED,
        message: `the run timed out: ${run.error?.message ?? "its ttl passed"}`,
      };
    case "cancelled":
      return {
        ...base,
        state: TaskState.TASK_STATE_CANCELED,
        message: run.error?.message ?? "cancelled",
      };
    default:
      break;
  }
  const { state } = await engine.explain(run.id);
  switch (state.kind) {
    case "pending":
      return { ...base, state: TaskState.TASK_STATE_SUBMITTED, message: null };
    case "waiting_for_approval":
      return {
        run,
        approval: state.approval,
        state: TaskState.TASK_STATE_INPUT_REQUIRED,
        message:
          `${state.title ?? `approval '${state.approval}'`}: reply "approve" or "reject" ` +
          `(a comment may follow), or a data part { "approved": true|false, "comment"? }`,
      };
    case "waiting_for_event":
      if (state.event === A2A_MESSAGE_EVENT)
        return { ...base, state: TaskState.TASK_STATE_INPUT_REQUIRED, message: state.wait };
      return { ...base, state: TaskState.TASK_STATE_WORKING, message: null };
    case "paused":
      return { ...base, state: TaskState.TASK_STATE_WORKING, message: state.message };
    default:
      return { ...base, state: TaskState.TASK_STATE_WORKING, message: null };
  }
}

/** True for the states a task never leaves. */
export const isFinal = (state: TaskState): boolean =>
  state === TaskState.TASK_STATE_COMPLETED ||
  state === TaskState.TASK_STATE_FAILED ||
  state === TaskState.TASK_STATE_CANCELED ||
  state === TaskState.TASK_STATE_REJECTED;

/** True for the states where a stream or a blocking send stops: final, or asking for input. */
export const isInterrupted = (state: TaskState): boolean =>
  isFinal(state) || state === TaskState.TASK_STATE_INPUT_REQUIRED;

/** The task of a view. */
export function taskOf(view: TaskView, contextId: string): Task {
  const id = view.run.id;
  return {
    id,
    contextId,
    status: {
      state: view.state,
      message:
        view.message === null
          ? undefined
          : agentMessage(
              id,
              contextId,
              `${id}:status:${view.approval ?? TaskState[view.state]}`,
              [textPart(view.message)],
              view.approval === null ? undefined : { approval: view.approval },
            ),
      timestamp: view.run.updatedAt.toISOString(),
    },
    artifacts: view.state === TaskState.TASK_STATE_COMPLETED ? [artifactOf(view.run.output)] : [],
    history: [],
    metadata: { workflow: view.run.workflow },
  };
}
