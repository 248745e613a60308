// The typed client of the endure HTTP API. It runs wherever fetch does (Node, browsers,
// edge runtimes) and imports nothing of the server.
import { InvalidArgumentError } from "../core/errors.js";
import { errorOf, followEvents, type ServerEvent } from "./sse.js";
import type {
  ApprovalView,
  ErrorData,
  ExplanationView,
  JournalEntryView,
  MemoryNamespaceView,
  MemoryValueView,
  MemoryVersionView,
  Readiness,
  RunListFilter,
  RunUpdate,
  RunView,
  StartedRun,
  StreamChunkView,
} from "./types.js";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The server's base URL, such as `http://127.0.0.1:4100`. */
  readonly url: string;
  /** A bearer token from the server's tokens file. */
  readonly token?: string;
  /** The fetch to use; default the global one. */
  readonly fetch?: typeof fetch;
}

/** Options of a live iteration. */
export interface FollowOptions {
  /** Stops the iteration (it ends quietly). */
  readonly signal?: AbortSignal;
}

type Query = Record<string, string | number | undefined>;

const enc = encodeURIComponent;

/** The client of one server. Create it with {@link createClient}. */
export class EndureClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly fetcher: typeof fetch;

  constructor(options: ClientOptions) {
    if (typeof options?.url !== "string" || !/^https?:\/\//.test(options.url))
      throw new InvalidArgumentError("createClient needs { url } such as http://127.0.0.1:4100");
    this.base = options.url.replace(/\/+$/, "");
    this.headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Liveness (no token needed). */
  health(): Promise<{ ok: boolean }> {
    return this.call("GET", "/v1/health");
  }

  /** Readiness: the store answers. Answers with `ok: false` rather than throwing on 503. */
  async ready(): Promise<Readiness> {
    const response = await this.send("GET", "/v1/health/ready");
    return (await response.json()) as Readiness;
  }

  /**
   * Who the token is: its name (recorded as `by` of decisions) and its role.
   *
   * @example
   * ```ts
   * const { name, role } = await client.whoami();
   * ```
   */
  whoami(): Promise<{ name: string; role: "viewer" | "approver" | "operator" | "admin" }> {
    return this.call("GET", "/v1/whoami");
  }

  /** The API as an OpenAPI 3.1 document. */
  openapi(): Promise<Record<string, unknown>> {
    return this.call("GET", "/v1/openapi.json");
  }

  /**
   * Starts a run of the workflow named `workflow` (idempotent by `id`). With `wait`
   * (`"5s"`), answers with the ended run if it ends in time, else `status: 202`, its URLs
   * and where it is (`explain`).
   *
   * @example
   * ```ts
   * const { run, status } = await client.start("research", { query: "vector dbs" }, { id: "lead-42", wait: "10s" });
   * if (status === 202) for await (const chunk of client.followStream(run.id)) console.log(chunk.part);
   * ```
   */
  async start<O = unknown>(
    workflow: string,
    input: unknown,
    options: { id?: string; priority?: number; wait?: string } = {},
  ): Promise<StartedRun<O>> {
    const body = {
      input,
      ...(options.id !== undefined ? { id: options.id } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
    };
    const response = await this.send(
      "POST",
      `/v1/workflows/${enc(workflow)}/runs`,
      { wait: options.wait },
      body,
    );
    return {
      ...((await response.json()) as Omit<StartedRun<O>, "status">),
      status: response.status,
    };
  }

  /** A run, as stored now. */
  getRun<O = unknown>(id: string): Promise<RunView<O>> {
    return this.call("GET", `/v1/runs/${enc(id)}`);
  }

  /** A page of runs, newest first; pass `next` as `cursor` for the next page. */
  listRuns(filter: RunListFilter = {}): Promise<{ runs: RunView[]; next: string | null }> {
    return this.call("GET", "/v1/runs", listQuery(filter));
  }

  /** A page of the run's journal from seq `from` (default 1); `next` is the next page's `from`. */
  journal(
    id: string,
    page: { from?: number; limit?: number } = {},
  ): Promise<{ entries: JournalEntryView[]; next: number | null }> {
    return this.call("GET", `/v1/runs/${enc(id)}/journal`, page);
  }

  /** Where the run is and why. */
  explain(id: string): Promise<ExplanationView> {
    return this.call("GET", `/v1/runs/${enc(id)}/explain`);
  }

  /** A page of the run's output stream from `from` (default 0). */
  readStream(
    id: string,
    page: { from?: number; limit?: number } = {},
  ): Promise<{ parts: StreamChunkView[] }> {
    return this.call("GET", `/v1/runs/${enc(id)}/stream`, page);
  }

  /** Cancels a run that has not ended. */
  cancel(id: string, reason?: string): Promise<RunView> {
    return this.call(
      "POST",
      `/v1/runs/${enc(id)}/cancel`,
      {},
      reason === undefined ? {} : { reason },
    );
  }

  /** Runs a failed run again from its failed step. */
  retry(id: string): Promise<RunView> {
    return this.call("POST", `/v1/runs/${enc(id)}/retry`, {}, {});
  }

  /**
   * Re-opens a run that ended from step `toStep` (its key, name or position): the steps
   * before it are not run again. The rewinder recorded is the token's name.
   */
  rewind(id: string, options: { toStep: string | number }): Promise<RunView> {
    return this.call("POST", `/v1/runs/${enc(id)}/rewind`, {}, { toStep: options.toStep });
  }

  /**
   * Starts a new run sharing the run's journal up to step `atStep`, with `output` as that
   * step's result when given. The forker recorded is the token's name.
   */
  fork(
    id: string,
    options: { atStep: string | number; output?: unknown; id?: string },
  ): Promise<RunView> {
    return this.call(
      "POST",
      `/v1/runs/${enc(id)}/fork`,
      {},
      {
        atStep: options.atStep,
        ...("output" in options ? { output: options.output } : {}),
        ...(options.id === undefined ? {} : { id: options.id }),
      },
    );
  }

  /** Makes a paused run runnable again; with `version`, on that version of its workflow. */
  resume(id: string, options: { version?: string | null } = {}): Promise<RunView> {
    return this.call(
      "POST",
      `/v1/runs/${enc(id)}/resume`,
      {},
      options.version === undefined ? {} : { version: options.version },
    );
  }

  /** Sends a signal to a run. */
  async signal(id: string, name: string, data?: unknown): Promise<void> {
    await this.call("POST", `/v1/runs/${enc(id)}/signals/${enc(name)}`, {}, { data });
  }

  /** Asks run `id` the query `name` (`ctx.onQuery`) and returns its answer. */
  async query<R = unknown>(id: string, name: string, args?: unknown): Promise<R> {
    const answer = await this.call<{ result: R }>(
      "POST",
      `/v1/runs/${enc(id)}/queries/${enc(name)}`,
      {},
      { args },
    );
    return answer.result;
  }

  /** Sends run `id` the update `name` (`ctx.onUpdate`), once per `options.id`; its result. */
  async update<R = unknown>(
    id: string,
    name: string,
    args?: unknown,
    options: { id?: string } = {},
  ): Promise<R> {
    const answer = await this.call<{ result: R }>(
      "POST",
      `/v1/runs/${enc(id)}/updates/${enc(name)}`,
      {},
      { args, ...(options.id !== undefined ? { id: options.id } : {}) },
    );
    return answer.result;
  }

  /** Memory namespaces that hold keys. */
  async memoryNamespaces(): Promise<MemoryNamespaceView[]> {
    return (await this.call<{ namespaces: MemoryNamespaceView[] }>("GET", "/v1/memory")).namespaces;
  }

  /** A page of a memory namespace's keys, in key order. */
  memoryKeys(
    namespace: string,
    options: { prefix?: string; after?: string; limit?: number } = {},
  ): Promise<{ keys: MemoryValueView[]; next: string | null }> {
    return this.call("GET", `/v1/memory/${enc(namespace)}`, {
      prefix: options.prefix,
      after: options.after,
      limit: options.limit,
    });
  }

  /** A memory key's value with its version and last writer, or null when it has none. */
  async memory(namespace: string, key: string): Promise<MemoryValueView | null> {
    return this.call<MemoryValueView | null>("GET", `/v1/memory/${enc(namespace)}/${enc(key)}`);
  }

  /** A memory key's last writes, newest first. */
  async memoryHistory(
    namespace: string,
    key: string,
    options: { limit?: number } = {},
  ): Promise<MemoryVersionView[]> {
    const page = await this.call<{ history: MemoryVersionView[] }>(
      "GET",
      `/v1/memory/${enc(namespace)}/${enc(key)}/history`,
      { limit: options.limit },
    );
    return page.history;
  }

  /** Sets a memory key; the writer in its history is this token's name. */
  setMemory(namespace: string, key: string, value: unknown): Promise<MemoryValueView> {
    return this.call("POST", `/v1/memory/${enc(namespace)}/${enc(key)}`, {}, { value });
  }

  /** Sends an event (idempotent by `id`). */
  sendEvent(event: {
    name: string;
    data?: unknown;
    id?: string;
  }): Promise<{ id: string; created: boolean; woke: number }> {
    return this.call("POST", "/v1/events", {}, event);
  }

  /** Open approvals, oldest first, with who may decide and when each times out. */
  async approvals(filter: { runId?: string; limit?: number } = {}): Promise<ApprovalView[]> {
    return (await this.call<{ approvals: ApprovalView[] }>("GET", "/v1/approvals", filter))
      .approvals;
  }

  /** Approves the run's open approval `name`, as the token's name. */
  approve(
    id: string,
    name: string,
    options: { comment?: string } = {},
  ): Promise<{ outcome: "recorded" | "settled"; by: string }> {
    return this.call("POST", `/v1/runs/${enc(id)}/approvals/${enc(name)}/approve`, {}, options);
  }

  /** Rejects the run's open approval `name`, as the token's name. */
  reject(
    id: string,
    name: string,
    options: { comment?: string } = {},
  ): Promise<{ outcome: "recorded" | "settled"; by: string }> {
    return this.call("POST", `/v1/runs/${enc(id)}/approvals/${enc(name)}/reject`, {}, options);
  }

  /**
   * A run's changes, live: each journal entry once, in order, and the run each time it
   * changes, until it ends. Reconnects after a drop from the last entry received.
   *
   * @example
   * ```ts
   * for await (const u of client.followRun(id)) if (u.kind === "entry") console.log(u.entry.type);
   * ```
   */
  async *followRun(id: string, options: FollowOptions = {}): AsyncGenerator<RunUpdate> {
    for await (const e of this.follow(
      `/v1/runs/${enc(id)}`,
      {},
      (e) => e.event === "end",
      options,
    )) {
      if (e.event === "entry")
        yield { kind: "entry", entry: JSON.parse(e.data) as JournalEntryView };
      else if (e.event === "run") yield { kind: "run", run: JSON.parse(e.data) as RunView };
    }
  }

  /** Changes of the run list's first page, live (with the list's filters), until aborted. */
  async *followRuns(
    filter: RunListFilter = {},
    options: FollowOptions = {},
  ): AsyncGenerator<RunView> {
    for await (const e of this.follow("/v1/runs", listQuery(filter), () => false, options))
      if (e.event === "run") yield JSON.parse(e.data) as RunView;
  }

  /**
   * A run's output stream, live, from offset `from` (default 0): each part once, in order,
   * until the run has ended. Reconnects after a drop from the last offset received.
   *
   * @example
   * ```ts
   * for await (const { part } of client.followStream(id)) if (part.type === "text-delta") write(part.delta);
   * ```
   */
  async *followStream(
    id: string,
    options: FollowOptions & { from?: number } = {},
  ): AsyncGenerator<Omit<StreamChunkView, "at">> {
    const path = `/v1/runs/${enc(id)}/stream`;
    const query = options.from === undefined ? {} : { from: options.from };
    for await (const e of this.follow(path, query, (e) => e.data === "[DONE]", options)) {
      if (e.event !== "message" || e.id === null) continue;
      yield { offset: Number(e.id), part: JSON.parse(e.data) as StreamChunkView["part"] };
    }
  }

  // ---- internals ------------------------------------------------------------------------

  private follow(
    path: string,
    query: Query,
    isEnd: (e: ServerEvent) => boolean,
    options: FollowOptions,
  ): AsyncGenerator<ServerEvent> {
    return followEvents(
      (lastEventId, signal) =>
        this.fetcher(this.urlOf(path, query), {
          headers: {
            ...this.headers,
            accept: "text/event-stream",
            ...(lastEventId === null ? {} : { "last-event-id": lastEventId }),
          },
          signal,
        }),
      isEnd,
      options.signal,
    );
  }

  private urlOf(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const text = params.toString();
    return `${this.base}${path}${text === "" ? "" : `?${text}`}`;
  }

  private async send(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
  ): Promise<Response> {
    const response = await this.fetcher(this.urlOf(path, query), {
      method,
      headers: {
        ...this.headers,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok && response.status !== 503) throw await errorOf(response);
    if (response.status === 503 && path !== "/v1/health/ready") throw await errorOf(response);
    return response;
  }

  private async call<T>(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
  ): Promise<T> {
    const response = await this.send(method, path, query, body);
    return (await response.json()) as T;
  }
}

function listQuery(filter: RunListFilter): Query {
  const iso = (v: Date | string | undefined): string | undefined =>
    v instanceof Date ? v.toISOString() : v;
  return {
    workflow: filter.workflow,
    status: filter.status,
    createdAfter: iso(filter.createdAfter),
    createdBefore: iso(filter.createdBefore),
    idContains: filter.idContains,
    limit: filter.limit,
    cursor: filter.cursor,
  };
}

/**
 * A client of the endure server at `url`, authenticated by `token`.
 *
 * @example
 * ```ts
 * import { createClient } from "endure/client";
 * const client = createClient({ url: "http://127.0.0.1:4100", token: process.env.ENDURE_TOKEN });
 * const { runs } = await client.listRuns({ status: "waiting" });
 * ```
 */
export function createClient(options: ClientOptions): EndureClient {
  return new EndureClient(options);
}

export type { ErrorData };
