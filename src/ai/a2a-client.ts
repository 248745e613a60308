// a2aAgent(): delegating to a remote A2A agent as durable operations of the calling run. The
// message is sent by a step whose message id derives from the step's idempotency key, so a
// retry or a replay sends the same message (and an A2A server that keys tasks by message id,
// as endure's does, starts nothing new); the run then reads the task on durable timers, with
// backoff, evicted from memory between reads, until the task ends. A task that asks for input
// surfaces as an approval of the calling run, whose decision is sent back to the task.
import { createHash } from "node:crypto";
import type { Duration } from "../core/duration.js";
import { parseDuration } from "../core/duration.js";
import {
  A2ARequestRefusedError,
  A2AResponseError,
  A2ATaskFailedError,
  A2ATaskNotFoundError,
  A2AUnavailableError,
} from "../core/agent-errors.js";
import { InvalidArgumentError, isEndureError } from "../core/errors.js";
import { validate, type StandardSchemaV1 } from "../core/schema.js";
import type { BackoffOptions, StepContext, WorkflowContext } from "../core/types.js";
import {
  A2A_POLLS_MAX,
  A2A_POLL_MS_DEFAULT,
  A2A_POLL_MS_MAX_DEFAULT,
  A2A_REQUEST_TIMEOUT_MS,
  A2A_RETRIES_DEFAULT,
  A2A_WAIT_MS_DEFAULT,
} from "./limits.js";
import type { Tool, ToolApprovalRules } from "./tool.js";

/** What {@link a2aAgent} takes. */
export interface A2AAgentOptions {
  /** The remote agent's JSON-RPC endpoint, such as `http://host:4100/a2a/refunds`. */
  readonly url: string;
  /** A bearer token sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Other headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The agent's name, for the tool's description and errors (default: the URL's last part). */
  readonly name?: string;
  /** What the agent does, for the model choosing the tool. */
  readonly description?: string;
  /** First wait between two reads of the task (default `aiLimits.A2A_POLL_MS_DEFAULT`, 1 s);
   * each wait doubles up to `pollMax`. */
  readonly pollEvery?: Duration;
  /** Longest wait between two reads (default `aiLimits.A2A_POLL_MS_MAX_DEFAULT`, 5 min). */
  readonly pollMax?: Duration;
  /** How long the run waits for the task to end, counted in time slept between reads, a
   * person's time to answer the task's questions aside (default
   * `aiLimits.A2A_WAIT_MS_DEFAULT`, 7 days); then it fails with `A2ATaskFailedError`, state
   * `timed-out`. */
  readonly timeout?: Duration;
  /** Retries of a request that fails (down, 5xx, garbage), as step retries (default 5). */
  readonly retries?: number;
  /** Delay between those retries. */
  readonly backoff?: BackoffOptions;
  /** Who answers the remote task's questions in the calling run (the approval's rules). */
  readonly approval?: ToolApprovalRules;
  /**
   * Part of every message id. Message ids derive from the calling run's id and the step's
   * name; give engines whose run ids may collide a distinct namespace each (default
   * `"endure"`).
   */
  readonly namespace?: string;
}

/** What a message to a remote agent carries: text, data parts, or both. */
export type A2AMessageInput = string | { readonly text?: string; readonly data?: unknown };

/** The answer of a remote A2A task. */
export interface A2AReply {
  /** The remote task's id (empty when the agent answered with a message, not a task). */
  readonly taskId: string;
  readonly contextId: string;
  /** The text parts of the task's artifacts (or of the answering message), joined by blank
   * lines; empty when there are none. */
  readonly text: string;
  /** The data parts, in order. */
  readonly data: readonly unknown[];
}

/** Options of one delegation. */
export interface A2ASendOptions {
  /** The A2A context to send the message in (a conversation on the remote side). */
  readonly contextId?: string;
}

/** A remote A2A agent: a helper for workflow code and a tool for `agent()`. */
export interface A2AAgent {
  /** The remote agent's name. */
  readonly name: string;
  /** The remote agent's JSON-RPC endpoint. */
  readonly url: string;
  /**
   * Sends `input` to the remote agent and waits, durably, for its task to end: resolves with
   * its answer, or rejects with `A2ATaskFailedError` (failed, canceled, rejected, timed out),
   * `A2AUnavailableError` or `A2AResponseError` (after the retries), `A2ARequestRefusedError`
   * or `A2ATaskNotFoundError`. `name` names the operations in the journal (`<name>`,
   * `<name> poll`, `<name> wait`, `<name> input`, `<name> reply`).
   *
   * @example
   * ```ts
   * const refunds = a2aAgent({ url: "http://refunds:4100/a2a/refunds", token });
   * const flow = workflow("support", async (ctx, input: { order: string }) => {
   *   const reply = await refunds.send(ctx, "refund", `Refund order ${input.order}`);
   *   return reply.text;
   * });
   * ```
   */
  send(
    ctx: WorkflowContext,
    name: string,
    input: A2AMessageInput,
    options?: A2ASendOptions,
  ): Promise<A2AReply>;
  /**
   * Waits, durably, for a task that already exists on the remote agent (started elsewhere),
   * as {@link A2AAgent.send} does after sending. An unknown id rejects with
   * `A2ATaskNotFoundError`.
   */
  wait(ctx: WorkflowContext, name: string, taskId: string): Promise<A2AReply>;
  /**
   * A tool that delegates to the remote agent: the model sends it `{ message }` and sees the
   * answer's text (or its data as JSON). Each call is a durable delegation as `send`, named
   * after the tool call.
   *
   * @example
   * ```ts
   * const support = agent("support", { model, tools: { refunds: refunds.tool() } });
   * ```
   */
  tool(options?: { readonly description?: string }): Tool<{ message: string }, A2AReply>;
}

/** A remote task as the run journals it: what the caller needs of it, not the whole task. */
interface TaskSnapshot {
  readonly id: string;
  readonly contextId: string;
  readonly state: string;
  /** The status message's text. */
  readonly question: string | null;
  /** The remote approval an `input-required` task waits for (`metadata.approval`). */
  readonly approval: string | null;
  /** Identifies one question: its status message id and time. */
  readonly asked: string | null;
  readonly text: string;
  readonly data: readonly unknown[];
}

const FINAL_STATES = new Set(["completed", "failed", "canceled", "rejected"]);
const STOP_STATES = new Set(["auth-required", "unknown"]);

/**
 * A remote A2A agent (JSON-RPC, A2A v0.3 method names) that workflow code and agents delegate
 * to durably: the message is sent once, the run waits for the task on durable timers
 * (evicted from memory, for days if need be), and a task that asks for input becomes an
 * approval of the calling run.
 *
 * @example
 * ```ts
 * const research = a2aAgent({ url: "http://research:4100/a2a/research", token, pollMax: "1m" });
 * const writer = agent("writer", { model, tools: { research: research.tool() } });
 * ```
 */
export function a2aAgent(options: A2AAgentOptions): A2AAgent {
  const o = checkOptions(options);
  const remote: A2AAgent = {
    name: o.name,
    url: o.url,
    send: (ctx, name, input, sendOptions) => delegate(ctx, o, name, input, sendOptions ?? {}),
    wait: async (ctx, name, taskId) => {
      if (typeof taskId !== "string" || taskId === "")
        throw new InvalidArgumentError(`a2aAgent '${o.name}': wait needs a task id`);
      const task = await ctx.step(`${name} poll`, (step) => getTask(o, taskId, step), o.step);
      return follow(ctx, o, name, task);
    },
    tool: (toolOptions) => a2aTool(remote, o, toolOptions?.description),
  };
  return Object.freeze(remote);
}

interface Checked {
  readonly url: string;
  readonly name: string;
  readonly description: string;
  readonly headers: Record<string, string>;
  readonly pollMs: number;
  readonly pollMaxMs: number;
  readonly timeoutMs: number;
  readonly namespace: string;
  readonly approval: ToolApprovalRules;
  readonly step: { retries: number; backoff?: BackoffOptions };
}

function checkOptions(options: A2AAgentOptions): Checked {
  if (typeof options !== "object" || options === null || typeof options.url !== "string")
    throw new InvalidArgumentError("a2aAgent needs { url }: the remote agent's JSON-RPC endpoint");
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidArgumentError(`a2aAgent: '${options.url}' is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError(`a2aAgent: the URL must be http or https, got ${url.protocol}`);
  const name =
    options.name ??
    (url.pathname
      .split("/")
      .filter((p) => p !== "")
      .pop() ||
      url.host);
  const what = `a2aAgent '${name}'`;
  const pollMs = parseDuration(options.pollEvery ?? A2A_POLL_MS_DEFAULT, `${what}: pollEvery`);
  const pollMaxMs = parseDuration(options.pollMax ?? A2A_POLL_MS_MAX_DEFAULT, `${what}: pollMax`);
  const timeoutMs = parseDuration(options.timeout ?? A2A_WAIT_MS_DEFAULT, `${what}: timeout`);
  if (pollMs < 1) throw new InvalidArgumentError(`${what}: pollEvery must be at least 1 ms`);
  if (pollMaxMs < pollMs)
    throw new InvalidArgumentError(`${what}: pollMax must be at least pollEvery`);
  const polls = pollsWithin(pollMs, pollMaxMs, timeoutMs);
  if (polls > A2A_POLLS_MAX)
    throw new InvalidArgumentError(
      `${what}: a timeout of ${timeoutMs} ms polled every ${pollMaxMs} ms at most takes ${polls} reads; ` +
        `the limit is ${A2A_POLLS_MAX} (aiLimits.A2A_POLLS_MAX): give a longer pollMax or a shorter timeout`,
    );
  const retries = options.retries ?? A2A_RETRIES_DEFAULT;
  if (!Number.isInteger(retries) || retries < 0)
    throw new InvalidArgumentError(`${what}: retries must be a whole number from 0`);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  return {
    url: url.toString(),
    name,
    description: options.description ?? `Delegates a task to the remote A2A agent '${name}'`,
    headers,
    pollMs,
    pollMaxMs,
    timeoutMs,
    namespace: options.namespace ?? "endure",
    approval: options.approval ?? {},
    step: { retries, ...(options.backoff === undefined ? {} : { backoff: options.backoff }) },
  };
}

/** How many reads a wait of `timeoutMs` takes at most, waits doubling from `pollMs` to `maxMs`. */
export function pollsWithin(pollMs: number, maxMs: number, timeoutMs: number): number {
  let polls = 0;
  let waited = 0;
  let next = pollMs;
  while (waited < timeoutMs) {
    waited += next;
    polls++;
    next = Math.min(maxMs, next * 2);
    if (next === maxMs) {
      polls += Math.max(0, Math.ceil((timeoutMs - waited) / maxMs));
      break;
    }
  }
  return polls;
}

/** The message id of the message a step sends: the same on every attempt and replay. */
function messageIdOf(o: Checked, step: StepContext): string {
  const digest = createHash("sha256")
    .update(`${o.namespace}\u0000${step.idempotencyKey}`)
    .digest("hex");
  return `endure-${digest.slice(0, 40)}`;
}

async function delegate(
  ctx: WorkflowContext,
  o: Checked,
  name: string,
  input: A2AMessageInput,
  options: A2ASendOptions,
): Promise<A2AReply> {
  const parts = partsOf(input, `a2aAgent '${o.name}'`);
  const first = await ctx.step(
    name,
    (step) =>
      sendMessage(o, step, {
        kind: "message",
        messageId: messageIdOf(o, step),
        role: "user",
        parts,
        ...(options.contextId === undefined ? {} : { contextId: options.contextId }),
      }),
    o.step,
  );
  return follow(ctx, o, name, first);
}

/** Reads the task until it ends, answering its questions through approvals. */
async function follow(
  ctx: WorkflowContext,
  o: Checked,
  name: string,
  first: TaskSnapshot,
): Promise<A2AReply> {
  let task = first;
  // Cancelling the calling run cancels the remote task, unless it has ended by then.
  let ended = false;
  if (task.id !== "")
    ctx.onCancel(async () => {
      if (ended) return;
      const id = task.id;
      await ctx.step(`${name} cancel`, (step) => cancelTask(o, id, step), o.step);
    });
  return poll();

  async function poll(): Promise<A2AReply> {
    let answered: string | null = null;
    let delay = o.pollMs;
    let waited = 0;
    for (;;) {
      if (task.state === "completed" || FINAL_STATES.has(task.state)) ended = true;
      if (task.state === "completed")
        return { taskId: task.id, contextId: task.contextId, text: task.text, data: task.data };
      if (FINAL_STATES.has(task.state) || STOP_STATES.has(task.state))
        throw new A2ATaskFailedError(
          `the remote A2A task '${task.id}' of agent '${o.name}' ended ${task.state}` +
            (task.question === null ? "" : `: ${task.question}`),
          o.url,
          task.id,
          task.state,
        );
      if (task.state === "input-required" && task.asked !== answered) {
        answered = task.asked;
        task = await answer(ctx, o, name, task);
        delay = o.pollMs;
        continue;
      }
      // The time slept, not the clock: no journal entry of its own, and a person's time to
      // answer a question does not count.
      if (waited >= o.timeoutMs)
        throw new A2ATaskFailedError(
          `the remote A2A task '${task.id}' of agent '${o.name}' did not end within ${o.timeoutMs} ms (it is ${task.state})`,
          o.url,
          task.id,
          "timed-out",
        );
      const pause = Math.max(1, Math.min(delay, o.timeoutMs - waited));
      await ctx.sleep(`${name} wait`, pause);
      waited += pause;
      delay = Math.min(o.pollMaxMs, delay * 2);
      const id = task.id;
      task = await ctx.step(`${name} poll`, (step) => getTask(o, id, step), o.step);
    }
  }
}

/**
 * A question of the remote task, asked of the calling run's people as an approval. A remote
 * approval gets the decision (`{ approved, comment }`); any other question gets the comment
 * (or `approved` without one) as its answer when approved, and a rejection, or the approval
 * timing out, cancels the task.
 */
async function answer(
  ctx: WorkflowContext,
  o: Checked,
  name: string,
  task: TaskSnapshot,
): Promise<TaskSnapshot> {
  const decision = await ctx.approval(`${name} input`.replace(/#/g, "_").slice(0, 200), {
    ...o.approval,
    title: titleOf(task.question, o.name),
    details: {
      agent: o.name,
      url: o.url,
      taskId: task.id,
      approval: task.approval,
      question: task.question,
    },
  });
  if (task.approval === null && !decision.approved) {
    return ctx.step(`${name} cancel`, (step) => cancelTask(o, task.id, step), o.step);
  }
  const parts: unknown[] =
    task.approval === null
      ? [{ kind: "text", text: decision.comment ?? "approved" }]
      : [
          {
            kind: "data",
            data: {
              approved: decision.approved,
              ...(decision.comment === null ? {} : { comment: decision.comment }),
            },
          },
        ];
  return ctx.step(
    `${name} reply`,
    async (step) => {
      try {
        return await sendMessage(
          o,
          step,
          {
            kind: "message",
            messageId: messageIdOf(o, step),
            role: "user",
            taskId: task.id,
            contextId: task.contextId,
            parts,
            ...(task.approval === null ? {} : { metadata: { approval: task.approval } }),
          },
          true,
        );
      } catch (e) {
        // A resend after the task moved on to its end: the reply was delivered; read it.
        if (!isEndureError(e, "a2a_request_refused")) throw e;
        const now = await getTask(o, task.id, step);
        if (FINAL_STATES.has(now.state)) return now;
        throw e;
      }
    },
    o.step,
  );
}

/** The approval's title: the remote question, without an endure server's reply instructions. */
function titleOf(question: string | null, agent: string): string {
  const asked = (question ?? "").replace(/: reply "approve" or "reject"[\s\S]*$/, "").trim();
  return (asked === "" ? `The remote agent '${agent}' asks for input` : asked).slice(0, 1_000);
}

function partsOf(input: A2AMessageInput, what: string): unknown[] {
  if (typeof input === "string") {
    if (input === "") throw new InvalidArgumentError(`${what}: the message is empty`);
    return [{ kind: "text", text: input }];
  }
  if (typeof input !== "object" || input === null)
    throw new InvalidArgumentError(`${what}: send a string or { text?, data? }`);
  const parts: unknown[] = [];
  if (input.text !== undefined && input.text !== "") parts.push({ kind: "text", text: input.text });
  if (input.data !== undefined) parts.push({ kind: "data", data: input.data });
  if (parts.length === 0) throw new InvalidArgumentError(`${what}: the message is empty`);
  return parts;
}

// --- JSON-RPC over HTTP ---------------------------------------------------------------------

async function sendMessage(
  o: Checked,
  step: StepContext,
  message: Record<string, unknown>,
  blocking = false,
): Promise<TaskSnapshot> {
  const result = await rpc(
    o,
    step,
    "message/send",
    { message, configuration: { blocking } },
    blocking ? 2 * A2A_REQUEST_TIMEOUT_MS + 30_000 : A2A_REQUEST_TIMEOUT_MS,
    typeof message["taskId"] === "string" ? message["taskId"] : null,
  );
  return snapshotOf(o, result, "message/send");
}

async function getTask(o: Checked, taskId: string, step: StepContext): Promise<TaskSnapshot> {
  const result = await rpc(o, step, "tasks/get", { id: taskId }, A2A_REQUEST_TIMEOUT_MS, taskId);
  const task = snapshotOf(o, result, "tasks/get");
  if (task.id !== taskId)
    throw new A2AResponseError(
      `the remote A2A agent '${o.name}' answered tasks/get for '${taskId}' with task '${task.id}'`,
      o.url,
    );
  return task;
}

async function cancelTask(o: Checked, taskId: string, step: StepContext): Promise<TaskSnapshot> {
  try {
    const result = await rpc(
      o,
      step,
      "tasks/cancel",
      { id: taskId },
      2 * A2A_REQUEST_TIMEOUT_MS + 30_000,
      taskId,
    );
    return snapshotOf(o, result, "tasks/cancel");
  } catch (e) {
    // Already ended (-32002): read how.
    if (isEndureError(e, "a2a_request_refused")) return getTask(o, taskId, step);
    throw e;
  }
}

async function rpc(
  o: Checked,
  step: StepContext,
  method: string,
  params: unknown,
  timeoutMs: number,
  taskId: string | null,
): Promise<unknown> {
  const what = `the remote A2A agent '${o.name}' (${o.url})`;
  let response: Response;
  try {
    response = await fetch(o.url, {
      method: "POST",
      headers: { ...o.headers, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: step.attempt, method, params }),
      signal: AbortSignal.any([step.signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (e) {
    throw new A2AUnavailableError(
      `${what} could not be reached for ${method}: ${(e as Error).message}`,
      o.url,
      null,
      { cause: e },
    );
  }
  let body: string;
  try {
    body = await response.text();
  } catch (e) {
    throw new A2AUnavailableError(
      `${what} broke off its answer to ${method}: ${(e as Error).message}`,
      o.url,
      response.status,
      { cause: e },
    );
  }
  if (response.status === 401 || response.status === 403)
    throw new A2ARequestRefusedError(
      `${what} refused ${method} with HTTP ${response.status}: check the token`,
      o.url,
      response.status,
    );
  if (response.status >= 500 || response.status === 429 || response.status === 408)
    throw new A2AUnavailableError(
      `${what} answered ${method} with HTTP ${response.status}`,
      o.url,
      response.status,
    );
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new A2AResponseError(
      `${what} answered ${method} with HTTP ${response.status} and a body that is not JSON: ${body.slice(0, 200)}`,
      o.url,
    );
  }
  const envelope = json as { jsonrpc?: unknown; result?: unknown; error?: unknown } | null;
  if (typeof envelope !== "object" || envelope === null || envelope.jsonrpc !== "2.0")
    throw new A2AResponseError(
      `${what} answered ${method} with HTTP ${response.status} and JSON that is not JSON-RPC 2.0`,
      o.url,
    );
  if (envelope.error !== undefined && envelope.error !== null) {
    const error = envelope.error as { code?: unknown; message?: unknown };
    const code = typeof error.code === "number" ? error.code : 0;
    const message = typeof error.message === "string" ? error.message : "no message";
    if (code === -32001)
      throw new A2ATaskNotFoundError(
        `${what} has no task '${taskId ?? "?"}' (${message})`,
        o.url,
        taskId ?? "",
      );
    if (code === -32603 || code === 0)
      throw new A2AUnavailableError(`${what} failed ${method} (${code}: ${message})`, o.url, null);
    throw new A2ARequestRefusedError(
      `${what} refused ${method} (${code}: ${message})`,
      o.url,
      code,
    );
  }
  if (response.status >= 400)
    throw new A2ARequestRefusedError(
      `${what} answered ${method} with HTTP ${response.status}`,
      o.url,
      response.status,
    );
  if (!("result" in envelope))
    throw new A2AResponseError(
      `${what} answered ${method} with neither a result nor an error`,
      o.url,
    );
  return envelope.result;
}

interface WirePart {
  readonly kind?: unknown;
  readonly text?: unknown;
  readonly data?: unknown;
}

function collectParts(parts: unknown, text: string[], data: unknown[]): void {
  if (!Array.isArray(parts)) return;
  for (const p of parts as WirePart[]) {
    if (typeof p !== "object" || p === null) continue;
    if (p.kind === "text" && typeof p.text === "string") text.push(p.text);
    else if (p.kind === "data") data.push(p.data ?? null);
  }
}

/** The snapshot of a task (or of a message answering directly), checked. */
function snapshotOf(o: Checked, result: unknown, method: string): TaskSnapshot {
  const garbage = (why: string) =>
    new A2AResponseError(
      `the remote A2A agent '${o.name}' answered ${method} with a result that is not an A2A task: ${why}`,
      o.url,
    );
  if (typeof result !== "object" || result === null) throw garbage("not an object");
  const r = result as {
    kind?: unknown;
    id?: unknown;
    contextId?: unknown;
    status?: unknown;
    artifacts?: unknown;
    parts?: unknown;
    messageId?: unknown;
  };
  const text: string[] = [];
  const data: unknown[] = [];
  if (r.kind === "message") {
    collectParts(r.parts, text, data);
    return {
      id: "",
      contextId: typeof r.contextId === "string" ? r.contextId : "",
      state: "completed",
      question: null,
      approval: null,
      asked: null,
      text: text.join("\n\n"),
      data,
    };
  }
  if (typeof r.id !== "string" || r.id === "") throw garbage("no task id");
  const status = r.status as
    | {
        state?: unknown;
        timestamp?: unknown;
        message?: { parts?: unknown; metadata?: unknown; messageId?: unknown };
      }
    | undefined;
  if (typeof status !== "object" || status === null || typeof status.state !== "string")
    throw garbage("no status state");
  if (Array.isArray(r.artifacts))
    for (const a of r.artifacts as { parts?: unknown }[]) collectParts(a?.parts, text, data);
  const said: string[] = [];
  collectParts(status.message?.parts, said, []);
  const metadata = status.message?.metadata as { approval?: unknown } | undefined;
  const approval = typeof metadata?.approval === "string" ? metadata.approval : null;
  const messageId = typeof status.message?.messageId === "string" ? status.message.messageId : "";
  const timestamp = typeof status.timestamp === "string" ? status.timestamp : "";
  return {
    id: r.id,
    contextId: typeof r.contextId === "string" ? r.contextId : "",
    state: status.state,
    question: said.length === 0 ? null : said.join("\n\n"),
    approval,
    asked: status.state === "input-required" ? `${messageId}@${timestamp}` : null,
    text: text.join("\n\n"),
    data,
  };
}

// --- the tool -------------------------------------------------------------------------------

const toolInputSchema: StandardSchemaV1<unknown, { message: string }> = {
  "~standard": {
    version: 1,
    vendor: "endure",
    validate(value) {
      const v = value as { message?: unknown } | null;
      if (typeof v !== "object" || v === null || typeof v.message !== "string" || v.message === "")
        return { issues: [{ message: "send { message: string }, the message to the agent" }] };
      return { value: { message: v.message } };
    },
  },
};

function a2aTool(
  remote: A2AAgent,
  o: Checked,
  description: string | undefined,
): Tool<{ message: string }, A2AReply> {
  const schema = toolInputSchema;
  return Object.freeze({
    kind: "endure.tool" as const,
    description: description ?? o.description,
    inputSchema: {
      type: "object",
      properties: {
        message: { type: "string", description: `The message to the agent '${o.name}'` },
      },
      required: ["message"],
      additionalProperties: false,
    },
    check: (value: unknown) => validate(schema, value),
    run: () => {
      throw new InvalidArgumentError(
        `the A2A tool of '${o.name}' runs as workflow code, in an agent's loop, not as a step body`,
      );
    },
    durable: (input: { message: string }, ctx: WorkflowContext, callId: string) =>
      remote.send(ctx, `a2a ${o.name} ${callId}`.replace(/#/g, "_").slice(0, 180), input.message),
    toModelOutput: (reply: A2AReply) =>
      reply.text !== "" ? reply.text : (JSON.stringify(reply.data) ?? "null"),
  });
}
