// The A2A request handler of one served workflow, over the engine: the SDK's JSON-RPC
// transports call it, and every answer is read from the run's journal, never from a task
// store of its own. A message starts a run (its id derived from the message id, so a resend
// starts nothing new) or continues the task's run: it decides the approval the run waits for,
// or is delivered as an `a2a.message` event whose id is derived from the message id.
import { createHash } from "node:crypto";
import {
  TaskState,
  type AgentCard,
  type ListTaskPushNotificationConfigsResponse,
  type ListTasksResponse,
  type Message,
  type SendMessageRequest,
  type StreamResponse,
  type Task,
  type TaskPushNotificationConfig,
} from "@a2a-js/sdk";
import {
  JsonRpcRequestMalformedError,
  JsonRpcTaskNotCancelableError,
  JsonRpcTaskNotFoundError,
  JsonRpcUnsupportedOperationError,
  A2A_ERROR_CODE,
  type JsonRpcA2AError,
} from "@a2a-js/sdk/errors";
import type { A2ARequestHandler, ServerCallContext } from "@a2a-js/sdk/server";
import { isEndureError } from "../../core/errors.js";
import { A2A_MESSAGE_EVENT, type A2AInput } from "../../core/workflow.js";
import type { Engine } from "../../engine/engine.js";
import type { RunInfo } from "../../engine/views.js";
import {
  A2A_BLOCKING_WAIT_MS_MAX,
  A2A_MESSAGE_ID_LENGTH_MAX,
  A2A_MESSAGE_PARTS_MAX,
  A2A_PUSH_CONFIGS_MAX,
} from "../limits.js";
import {
  A2A_MEMORY_NAMESPACE,
  artifactOf,
  isFinal,
  isInterrupted,
  taskIdOf,
  taskKey,
  taskOf,
  textPart,
  viewOf,
  type PushConfig,
  type ServedAgent,
  type TaskRecord,
  type TaskView,
} from "./tasks.js";

/** Invalid params (-32602), saying what was wrong. */
export const invalidParams = (message: string): JsonRpcA2AError =>
  new JsonRpcRequestMalformedError({ message, envelopeCode: A2A_ERROR_CODE.INVALID_PARAMS });

const taskNotFound = (id: string): JsonRpcA2AError =>
  new JsonRpcTaskNotFoundError({ message: `no task has the id '${id}' on this agent` });

/** How the handler reaches the rest of the server. */
export interface HandlerParts {
  readonly engine: Engine;
  readonly card: () => AgentCard;

  /** How often a stream or a blocking send reads the run, in ms. */
  readonly pollMs: number;
  /** Tells the push notifier a task has a config now. */
  readonly watch: (taskId: string) => void;
}

/** The parts of a message the handler uses, checked. */
interface Incoming {
  readonly message: Message;
  readonly input: A2AInput;
  readonly data: readonly unknown[];
}

/** The A2A request handler of one served workflow. */
export class EndureA2AHandler implements A2ARequestHandler {
  constructor(
    private readonly agent: ServedAgent,
    private readonly parts: HandlerParts,
  ) {}

  getAgentCard(): Promise<AgentCard> {
    return Promise.resolve(this.parts.card());
  }

  getAuthenticatedExtendedAgentCard(): Promise<AgentCard> {
    return Promise.resolve(this.parts.card());
  }

  async sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Task> {
    const { taskId, contextId, answered } = await this.deliver(params, context);
    const blocking = params.configuration?.returnImmediately !== true;
    const deadline = Date.now() + (blocking ? A2A_BLOCKING_WAIT_MS_MAX : 0);
    let view = await this.view(taskId);
    while ((!isInterrupted(view.state) || sameQuestion(view, answered)) && Date.now() < deadline) {
      await sleep(this.parts.pollMs);
      view = await this.view(taskId);
    }
    return taskOf(view, contextId);
  }

  async *sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const { taskId, contextId, answered } = await this.deliver(params, context);
    yield* this.follow(taskId, contextId, answered);
  }

  async getTask(params: { id: string; historyLength?: number | undefined }): Promise<Task> {
    const id = checkTaskId(params.id);
    const record = await this.record(id);
    return taskOf(await this.view(id), record?.contextId ?? id);
  }

  listTasks(): Promise<ListTasksResponse> {
    return Promise.reject(
      new JsonRpcUnsupportedOperationError({
        message: "ListTasks is not served: list runs with GET /v1/runs?workflow=<name>",
      }),
    );
  }

  async cancelTask(params: { id: string }, context: ServerCallContext): Promise<Task> {
    const id = checkTaskId(params.id);
    const view = await this.view(id);
    if (isFinal(view.state))
      throw new JsonRpcTaskNotCancelableError({
        message: `task '${id}' has ended (${TaskState[view.state]}); it cannot be cancelled`,
      });
    await this.parts.engine.cancel(id, `cancelled over A2A by ${callerName(context)}`, {
      by: callerName(context),
    });
    let now = await this.view(id);
    const deadline = Date.now() + A2A_BLOCKING_WAIT_MS_MAX;
    while (!isFinal(now.state) && Date.now() < deadline) {
      await sleep(this.parts.pollMs);
      now = await this.view(id);
    }
    const record = await this.record(id);
    return taskOf(now, record?.contextId ?? id);
  }

  async createTaskPushNotificationConfig(
    params: TaskPushNotificationConfig,
  ): Promise<TaskPushNotificationConfig> {
    const taskId = checkTaskId(params.taskId);
    await this.view(taskId);
    const config = checkPushConfig(params, taskId);
    await this.addPush(taskId, config, taskId);
    return pushConfigOut(taskId, config);
  }

  async getTaskPushNotificationConfig(params: {
    taskId: string;
    id: string;
  }): Promise<TaskPushNotificationConfig> {
    const taskId = checkTaskId(params.taskId);
    const record = await this.record(taskId);
    const config = record?.push.find((c) => c.id === params.id);
    if (config === undefined) throw taskNotFound(`${taskId}' has no push config '${params.id}`);
    return pushConfigOut(taskId, config);
  }

  async listTaskPushNotificationConfigs(params: {
    taskId: string;
  }): Promise<ListTaskPushNotificationConfigsResponse> {
    const taskId = checkTaskId(params.taskId);
    await this.view(taskId);
    const record = await this.record(taskId);
    return {
      configs: (record?.push ?? []).map((c) => pushConfigOut(taskId, c)),
      nextPageToken: "",
    };
  }

  async deleteTaskPushNotificationConfig(params: { taskId: string; id: string }): Promise<void> {
    const taskId = checkTaskId(params.taskId);
    await this.view(taskId);
    await this.memory(taskId).update((current) => ({
      contextId: current?.contextId ?? taskId,
      push: (current?.push ?? []).filter((c) => c.id !== params.id),
      pushed: current?.pushed ?? {},
    }));
  }

  async *resubscribe(params: { id: string }): AsyncGenerator<StreamResponse, void, undefined> {
    const id = checkTaskId(params.id);
    const record = await this.record(id);
    yield* this.follow(id, record?.contextId ?? id);
  }

  /**
   * The task first, then a status update at each change of state and an artifact update per
   * piece of text the run streams, until the task ends or asks for input.
   */
  private async *follow(
    taskId: string,
    contextId: string,
    answered: TaskView | null = null,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    let view = await this.view(taskId);
    // A reply was just delivered: the question it answered does not end the stream.
    while (sameQuestion(view, answered)) {
      await sleep(this.parts.pollMs);
      view = await this.view(taskId);
    }
    yield { payload: { $case: "task", value: taskOf(view, contextId) } };
    let seen = view.state;
    let from = 0;
    for (;;) {
      const chunks = await this.parts.engine.readStream(taskId, { from });
      for (const { offset, part } of chunks) {
        from = offset + 1;
        const p = part as { type?: unknown; delta?: unknown };
        if (p.type !== "text-delta" || typeof p.delta !== "string") continue;
        yield {
          payload: {
            $case: "artifactUpdate",
            value: {
              taskId,
              contextId,
              artifact: { ...artifactOf(""), parts: [textPart(p.delta)] },
              append: true,
              lastChunk: false,
              metadata: undefined,
            },
          },
        };
      }
      if (chunks.length > 0) continue;
      if (view.state !== seen || isInterrupted(view.state)) {
        seen = view.state;
        const task = taskOf(view, contextId);
        if (view.state === TaskState.TASK_STATE_COMPLETED) {
          yield {
            payload: {
              $case: "artifactUpdate",
              value: {
                taskId,
                contextId,
                artifact: artifactOf(view.run.output),
                append: false,
                lastChunk: true,
                metadata: undefined,
              },
            },
          };
        }
        yield {
          payload: {
            $case: "statusUpdate",
            value: { taskId, contextId, status: task.status, metadata: undefined },
          },
        };
        if (isInterrupted(view.state)) return;
      }
      await sleep(this.parts.pollMs);
      view = await this.view(taskId);
    }
  }

  /** Starts the message's run or continues its task's; the task and its context. */
  private async deliver(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): Promise<{ taskId: string; contextId: string; answered: TaskView | null }> {
    const incoming = checkMessage(params);
    const { message } = incoming;
    const push = params.configuration?.taskPushNotificationConfig;
    if (message.taskId === "") {
      const taskId = taskIdOf(this.agent.name, message.messageId);
      const contextId = message.contextId === "" ? taskId : message.contextId;
      // Written before the run: a crash between the two leaves a record a resend completes.
      const record = await this.memory(taskId).update((current) => ({
        contextId: current?.contextId ?? contextId,
        push: current?.push ?? [],
        pushed: current?.pushed ?? {},
      }));
      if (push !== undefined) await this.addPush(taskId, checkPushConfig(push, taskId), taskId);
      const input = this.agent.serving.input?.({ ...incoming.input, contextId }) ?? {
        ...incoming.input,
        contextId,
      };
      try {
        await this.parts.engine.start(this.agent.workflow, input, {
          id: taskId,
          onConflict: "return",
          by: callerName(context),
        });
      } catch (e) {
        throw fromEndure(e);
      }
      return { taskId, contextId: record.value.contextId, answered: null };
    }
    const taskId = checkTaskId(message.taskId);
    const view = await this.view(taskId);
    const record = await this.record(taskId);
    const contextId = record?.contextId ?? taskId;
    if (push !== undefined) await this.addPush(taskId, checkPushConfig(push, taskId), contextId);
    if (isFinal(view.state))
      throw new JsonRpcUnsupportedOperationError({
        message: `task '${taskId}' has ended (${TaskState[view.state]}); start a new task with a message without taskId`,
      });
    await this.continueRun(view, incoming, context, contextId);
    return { taskId, contextId, answered: view };
  }

  /**
   * Delivers a reply to the task's run exactly once. The approval it decides is bound to the
   * message id in one memory write (serialized per key) before the decision: a resend decides
   * the same approval, which the store refuses to decide twice. A reply to a message wait is
   * an event whose id is derived from the message id: stored and delivered once.
   */
  private async continueRun(
    view: TaskView,
    incoming: Incoming,
    context: ServerCallContext,
    contextId: string,
  ): Promise<void> {
    const { engine } = this.parts;
    const taskId = view.run.id;
    const { message } = incoming;
    const digest = createHash("sha256").update(message.messageId).digest("hex").slice(0, 32);
    const named: unknown = message.metadata?.["approval"];
    const binding = await engine
      .memory<{ approval: string | null }>(A2A_MEMORY_NAMESPACE, `reply:${taskId}:${digest}`)
      .update(
        (current) => current ?? { approval: typeof named === "string" ? named : view.approval },
      );
    const approval = binding.value.approval;
    if (approval !== null) {
      const decision = decisionOf(incoming);
      const options = {
        by: callerName(context),
        ...(decision.comment === undefined ? {} : { comment: decision.comment }),
      };
      try {
        if (decision.approved) await engine.approve(taskId, approval, options);
        else await engine.reject(taskId, approval, options);
      } catch (e) {
        // Decided already (by this message's first delivery, or by someone else): not again.
        if (isEndureError(e) && e.code === "approval_decided") return;
        throw fromEndure(e);
      }
      return;
    }
    try {
      await engine.sendEvent({
        name: A2A_MESSAGE_EVENT,
        id: `a2a:${taskId}:${digest}`,
        data: { ...incoming.input, contextId, taskId },
      });
    } catch (e) {
      throw fromEndure(e);
    }
  }

  private async addPush(taskId: string, config: PushConfig, contextId: string): Promise<void> {
    await this.memory(taskId).update((current) => {
      const others = (current?.push ?? []).filter((c) => c.id !== config.id);
      if (others.length >= A2A_PUSH_CONFIGS_MAX)
        throw invalidParams(
          `task '${taskId}' has ${A2A_PUSH_CONFIGS_MAX} push configs, the limit (A2A_PUSH_CONFIGS_MAX); delete one first`,
        );
      return {
        contextId: current?.contextId ?? contextId,
        push: [...others, config],
        pushed: current?.pushed ?? {},
      };
    });
    this.parts.watch(taskId);
  }

  private memory(taskId: string) {
    return this.parts.engine.memory<TaskRecord>(A2A_MEMORY_NAMESPACE, taskKey(taskId));
  }

  private async record(taskId: string): Promise<TaskRecord | undefined> {
    return this.memory(taskId).get();
  }

  /** The task's view; task not found when no run of this agent has the id. */
  private async view(taskId: string): Promise<TaskView> {
    const run: RunInfo | null = await this.parts.engine.getRun(taskId);
    if (run === null || run.workflow !== this.agent.name) throw taskNotFound(taskId);
    return viewOf(this.parts.engine, run);
  }
}

/** True while `view` still asks the question `answered` asked (the reply is on its way). */
function sameQuestion(view: TaskView, answered: TaskView | null): boolean {
  return (
    answered !== null &&
    answered.state === TaskState.TASK_STATE_INPUT_REQUIRED &&
    view.state === answered.state &&
    view.approval === answered.approval &&
    (answered.approval !== null || view.message === answered.message)
  );
}

/** An approval decision read from a reply: a data part `{ approved, comment? }`, or text. */
function decisionOf(incoming: Incoming): { approved: boolean; comment?: string } {
  for (const d of incoming.data) {
    const v = d as { approved?: unknown; comment?: unknown } | null;
    if (typeof v === "object" && v !== null && typeof v.approved === "boolean") {
      return {
        approved: v.approved,
        ...(typeof v.comment === "string" ? { comment: v.comment } : {}),
      };
    }
  }
  const text = incoming.input.text.trim();
  const match = /^(approve|approved|yes|ok|reject|rejected|no)\b[\s:,.-]*([\s\S]*)$/i.exec(text);
  if (match === null)
    throw invalidParams(
      `the task waits for an approval: reply "approve" or "reject" (a comment may follow), or a data part { "approved": true|false, "comment"? }; got '${text.slice(0, 80)}'`,
    );
  const word = (match[1] ?? "").toLowerCase();
  const comment = (match[2] ?? "").trim();
  return {
    approved: ["approve", "approved", "yes", "ok"].includes(word),
    ...(comment === "" ? {} : { comment }),
  };
}

/** The message of a send, checked: ids, parts and their limits. */
function checkMessage(params: SendMessageRequest): Incoming {
  const message = params.message;
  if (message === undefined) throw invalidParams("params.message is missing: send { message }");
  if (typeof message.messageId !== "string" || message.messageId.trim() === "")
    throw invalidParams("message.messageId is missing: every A2A message needs an id");
  if (message.messageId.length > A2A_MESSAGE_ID_LENGTH_MAX)
    throw invalidParams(
      `message.messageId is ${message.messageId.length} characters; at most ${A2A_MESSAGE_ID_LENGTH_MAX} (A2A_MESSAGE_ID_LENGTH_MAX)`,
    );
  if (!Array.isArray(message.parts) || message.parts.length === 0)
    throw invalidParams("message.parts is empty: send at least one text or data part");
  if (message.parts.length > A2A_MESSAGE_PARTS_MAX)
    throw invalidParams(
      `message.parts has ${message.parts.length} parts; at most ${A2A_MESSAGE_PARTS_MAX} (A2A_MESSAGE_PARTS_MAX)`,
    );
  const texts: string[] = [];
  const data: unknown[] = [];
  for (const [i, part] of message.parts.entries()) {
    const content = part.content;
    if (content === undefined)
      throw invalidParams(`message.parts[${i}] has no content: give text, data, url or raw`);
    if (content.$case === "text") texts.push(content.value);
    else if (content.$case === "data") data.push(content.value);
    else if (content.$case === "url") texts.push(content.value);
    else
      throw invalidParams(
        `message.parts[${i}] is a raw file; this agent takes text, data and url parts`,
      );
  }
  return {
    message,
    data,
    input: { text: texts.join("\n\n"), data, messageId: message.messageId, contextId: "" },
  };
}

function checkTaskId(id: unknown): string {
  if (typeof id !== "string" || id.trim() === "")
    throw invalidParams("the task id is missing: give the id of a task this agent returned");
  if (id.length > 256) throw invalidParams("the task id is longer than 256 characters");
  return id;
}

function checkPushConfig(config: Partial<TaskPushNotificationConfig>, taskId: string): PushConfig {
  const url = config.url ?? "";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidParams(`the push config url '${url}' is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw invalidParams(`the push config url must be http or https, got '${parsed.protocol}'`);
  const auth = config.authentication;
  return {
    id: config.id === undefined || config.id === "" ? `${taskId}:push` : config.id,
    url,
    token: config.token ?? "",
    authentication:
      auth === undefined || auth.scheme === ""
        ? null
        : { scheme: auth.scheme, credentials: auth.credentials },
  };
}

function pushConfigOut(taskId: string, c: PushConfig): TaskPushNotificationConfig {
  return {
    tenant: "",
    id: c.id,
    taskId,
    url: c.url,
    token: c.token,
    authentication: c.authentication ?? undefined,
  };
}

/** An endure error as the JSON-RPC error of its kind. */
function fromEndure(e: unknown): unknown {
  if (!isEndureError(e)) return e;
  switch (e.code) {
    case "input_invalid":
    case "invalid_argument":
    case "value_not_serializable":
    case "payload_too_large":
    case "approval_not_allowed":
      return invalidParams(e.message);
    case "run_not_found":
    case "approval_not_found":
      return new JsonRpcTaskNotFoundError({ message: e.message });
    case "run_finished":
      return new JsonRpcUnsupportedOperationError({ message: e.message });
    default:
      return e;
  }
}

/** The name of the token that made the request (it decides approvals). */
const callerName = (context: ServerCallContext): string => context.user?.userName ?? "anonymous";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
