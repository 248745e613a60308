// The A2A client over real HTTP on loopback and real SQLite files: an endure run delegates to
// a second endure server's A2A agent with a2aAgent(), as a helper and as an agent's tool; the
// message is sent once even when the first answer is lost; a remote that is down, answers
// garbage or does not know a task fails the run with typed errors; input-required surfaces as
// an approval of the calling run whose decision continues the remote task.
import { createServer as createHttpServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { A2A_MESSAGE_EVENT, isEndureError, workflow, type Engine } from "endure";
import { a2aAgent, agent, aiLimits, scriptedModel, tool } from "endure/ai";
import { z } from "zod";
import { eventually, onCleanup, sqliteEngine } from "../helpers.js";
import { failure, serve, TOKENS } from "../server/support.js";

const OPERATOR = TOKENS.find((t) => t.role === "operator")?.token ?? "";
const FAST = {
  pollEvery: "20ms",
  pollMax: "100ms",
  timeout: "10m",
  backoff: { initial: "10ms", max: "20ms" },
};

let started = 0;
/** A remote workflow that counts its runs and answers when released by a signal. */
const gated = workflow(
  "gated",
  async (ctx, input: { text: string }) => {
    await ctx.step("count", () => ++started);
    const go = await ctx.waitForSignal<string>("release", { timeout: "1h" });
    return `answered ${input.text} (${go?.data ?? "no"})`;
  },
  { a2a: { description: "Answers when released" } },
);

/** A remote workflow that asks its caller a question. */
const asker = workflow(
  "asker",
  async (ctx, input: { text: string }) => {
    const reply = await ctx.waitForEvent<{ text: string }>("more", {
      event: A2A_MESSAGE_EVENT,
      match: { "data.taskId": ctx.runId },
      timeout: "1h",
    });
    return `${input.text} + ${reply?.data.text ?? "nothing"}`;
  },
  { a2a: { description: "Joins two messages" } },
);

const failing = workflow(
  "failing",
  async (ctx) => {
    await ctx.step(
      "boom",
      () => {
        throw new Error("the warehouse is on fire");
      },
      { retries: 0 },
    );
  },
  { a2a: true },
);

const refunded: string[] = [];
const refunds = (): ReturnType<typeof agent> =>
  agent("refunds", {
    description: "Refunds orders, with a person's approval",
    model: scriptedModel([
      { toolCalls: [{ name: "refund", input: { order: "A-17" } }] },
      "Refunded order A-17.",
    ]),
    tools: {
      refund: tool({
        description: "Refund an order",
        input: z.object({ order: z.string() }),
        approval: true,
        run: ({ order }) => {
          refunded.push(order);
          return { refunded: order };
        },
      }),
    },
  });

async function remote() {
  const s = await serve({ workflows: [gated, asker, failing, refunds()] });
  return s;
}

async function runsOf(engine: Engine, name: string) {
  return (await engine.listRuns({ workflow: name })).runs;
}

/** The first item of a list, once there is one. */
const first = async <T>(list: Promise<readonly T[]>): Promise<T | undefined> => (await list)[0];

/** A local HTTP server answering every request with `answer`. */
async function fakeServer(
  answer: (body: string) => { status: number; body: string } | "hang-up",
): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push(body);
      const a = answer(body);
      if (a === "hang-up") {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/a2a/fake`, requests };
}

describe("a2aAgent", () => {
  it("delegates to a remote endure workflow over A2A and returns its answer", async () => {
    started = 0;
    const r = await remote();
    const gatedAgent = a2aAgent({ url: `${r.url}/a2a/gated`, token: OPERATOR, ...FAST });
    const caller = workflow("caller", async (ctx, input: { q: string }) => {
      const reply = await gatedAgent.send(ctx, "ask gated", { text: input.q });
      return { text: reply.text, taskId: reply.taskId };
    });
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, { q: "hello" }, { id: "caller-1" });
    const task = await eventually(() => first(runsOf(r.engine, "gated")));
    await eventually(() => started === 1);
    await r.engine.signal(task.id, "release", "go");
    const result = await run.result();
    expect(result).toEqual({ text: "answered hello (go)", taskId: task.id });
    expect(await runsOf(r.engine, "gated")).toHaveLength(1);
    expect(started).toBe(1);
    const journal = await engine.journal("caller-1");
    expect(journal.some((e) => e.type === "step_succeeded" && e.key === "ask gated#1")).toBe(true);
    expect(journal.some((e) => e.key?.startsWith("ask gated poll"))).toBe(true);
  });

  it("sends the message once when the first answer is lost and the step retries", async () => {
    started = 0;
    const r = await remote();
    // A proxy that forwards every request but hangs up instead of answering the first.
    let forwarded = 0;
    const proxy = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        void fetch(`${r.url}/a2a/gated`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR}` },
          body,
        })
          .then((answer) => answer.text())
          .then((text) => {
            forwarded++;
            if (forwarded === 1) req.socket.destroy();
            else res.writeHead(200, { "content-type": "application/json" }).end(text);
          });
      });
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    onCleanup(() => new Promise<void>((ok) => proxy.close(() => ok())));
    const port = (proxy.address() as { port: number }).port;
    const viaProxy = a2aAgent({ url: `http://127.0.0.1:${port}/a2a/gated`, ...FAST });
    const caller = workflow(
      "caller",
      async (ctx) => (await viaProxy.send(ctx, "ask", "once")).text,
    );
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-2" });
    const task = await eventually(() => first(runsOf(r.engine, "gated")));
    await eventually(() => started === 1);
    await r.engine.signal(task.id, "release", "go");
    expect(await run.result()).toBe("answered once (go)");
    expect(forwarded).toBeGreaterThanOrEqual(2); // the lost send and its resend
    expect(await runsOf(r.engine, "gated")).toHaveLength(1);
    expect(started).toBe(1);
    const attempts = (await engine.journal("caller-2")).filter(
      (e) => e.type === "step_failed" || e.type === "step_attempt_failed",
    );
    expect(attempts.length).toBeGreaterThanOrEqual(1);
  });

  it("is a tool of an agent: the model delegates and reads the remote answer", async () => {
    const r = await remote();
    const remoteAsker = a2aAgent({ url: `${r.url}/a2a/refunds`, token: OPERATOR, ...FAST });
    const boss = agent("boss", {
      model: scriptedModel([
        { toolCalls: [{ name: "refunds", input: { message: "Refund order A-17" } }] },
        (request) => `Done: ${request.messages.at(-1)?.content ?? ""}`,
      ]),
      tools: { refunds: remoteAsker.tool() },
    });
    refunded.length = 0;
    const engine = await sqliteEngine({ workflows: [boss] });
    const run = await engine.start(boss, { prompt: "refund A-17" }, { id: "boss-1" });
    // The remote agent asks for approval: it surfaces as an approval of the calling run.
    const pending = await eventually(() => first(engine.approvals({ runId: "boss-1" })));
    expect(pending.title).toMatch(/Allow tool 'refund' to run\?/);
    expect(refunded).toEqual([]);
    await engine.approve("boss-1", pending.name, { by: "lee@example.com", comment: "lost parcel" });
    const result = await run.result();
    expect(result.text).toBe("Done: Refunded order A-17.");
    expect(refunded).toEqual(["A-17"]);
    const task = await first(runsOf(r.engine, "refunds"));
    const decided = (await r.engine.journal(task?.id ?? "")).find(
      (e) => e.type === "wait_completed",
    );
    expect((decided?.data as { result?: { comment?: string } }).result?.comment).toBe(
      "lost parcel",
    );
  });

  it("answers a remote question with the approver's comment", async () => {
    const r = await remote();
    const a = a2aAgent({ url: `${r.url}/a2a/asker`, token: OPERATOR, ...FAST });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "first")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-3" });
    const pending = await eventually(() => first(engine.approvals({ runId: "caller-3" })));
    expect(pending.name).toBe("ask input");
    await engine.approve("caller-3", pending.name, { by: "lee@example.com", comment: "second" });
    expect(await run.result()).toBe("first + second");
    expect(await runsOf(r.engine, "asker")).toHaveLength(1);
  });

  it("cancels the remote task when its question is rejected", async () => {
    const r = await remote();
    const a = a2aAgent({ url: `${r.url}/a2a/asker`, token: OPERATOR, ...FAST });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "first")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-rejects" });
    const pending = await eventually(() => first(engine.approvals({ runId: "caller-rejects" })));
    await engine.reject("caller-rejects", pending.name, { by: "lee@example.com" });
    const error = (await failure(run.result())) as Error & { state?: string };
    expect(isEndureError(error, "a2a_task_failed")).toBe(true);
    expect(error.state).toBe("canceled");
    const task = await first(runsOf(r.engine, "asker"));
    expect((await r.engine.getRun(task?.id ?? ""))?.status).toBe("cancelled");
  });

  it("runs two calls of one turn as two delegations, each sent once", async () => {
    const r = await remote();
    const asker2 = a2aAgent({ url: `${r.url}/a2a/refunds`, token: OPERATOR, ...FAST });
    const desk = a2aAgent({ url: `${r.url}/a2a/failing`, token: OPERATOR, ...FAST });
    const boss = agent("boss", {
      model: scriptedModel([
        {
          toolCalls: [
            { name: "refunds", input: { message: "Refund order A-17" } },
            { name: "desk", input: { message: "Anything?" } },
          ],
        },
        (request) =>
          request.messages
            .filter((m) => m.role === "tool")
            .map((m) => m.content)
            .join(" | "),
      ]),
      tools: { refunds: asker2.tool(), desk: desk.tool() },
    });
    const engine = await sqliteEngine({ workflows: [boss] });
    const run = await engine.start(boss, { prompt: "go" }, { id: "boss-2" });
    const pending = await eventually(() => first(engine.approvals({ runId: "boss-2" })));
    await engine.approve("boss-2", pending.name, { by: "lee@example.com" });
    const result = await run.result();
    // The failed remote task is answered to the model as a tool error; the other succeeds.
    expect(result.text).toMatch(
      /^Refunded order A-17\. \| Error: tool 'desk' failed: .*ended failed/,
    );
    expect(await runsOf(r.engine, "refunds")).toHaveLength(1);
    expect(await runsOf(r.engine, "failing")).toHaveLength(1);
  });

  it("fails with A2ATaskFailedError when the remote task fails", async () => {
    const r = await remote();
    const a = a2aAgent({ url: `${r.url}/a2a/failing`, token: OPERATOR, ...FAST });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "go")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-4" });
    const error = (await failure(run.result())) as Error & { taskId?: string; state?: string };
    expect(isEndureError(error, "a2a_task_failed")).toBe(true);
    expect(error.name).toBe("A2ATaskFailedError");
    expect(error.state).toBe("failed");
    expect(error.message).toMatch(/the warehouse is on fire/);
    const task = await first(runsOf(r.engine, "failing"));
    expect(error.taskId).toBe(task?.id);
  });

  it("retries a remote that is down, then fails with A2AUnavailableError", async () => {
    const down = await fakeServer(() => "hang-up");
    const a = a2aAgent({ url: down.url, retries: 2, ...FAST });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "hi")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-5" });
    const error = await failure(run.result());
    expect(isEndureError(error, "a2a_unavailable")).toBe(true);
    expect(error.name).toBe("A2AUnavailableError");
    expect(down.requests).toHaveLength(3);
    // Every attempt sent the same message id.
    const ids = down.requests.map(
      (b) =>
        (JSON.parse(b) as { params: { message: { messageId: string } } }).params.message.messageId,
    );
    expect(new Set(ids).size).toBe(1);
  });

  it("lets the workflow catch the typed error and carry on, its earlier steps kept", async () => {
    const down = await fakeServer(() => "hang-up");
    const a = a2aAgent({ url: down.url, retries: 1, ...FAST });
    let drafted = 0;
    const caller = workflow("caller", async (ctx) => {
      const draft = await ctx.step("draft", () => `draft ${++drafted}`);
      try {
        return (await a.send(ctx, "review", draft)).text;
      } catch (e) {
        if (isEndureError(e, "a2a_unavailable")) return `${draft}, not reviewed`;
        throw e;
      }
    });
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-fallback" });
    expect(await run.result()).toBe("draft 1, not reviewed");
    expect(drafted).toBe(1);
    expect(down.requests).toHaveLength(2);
  });

  it("retries garbage answers, then fails with A2AResponseError; 5xx is unavailable", async () => {
    const garbage = await fakeServer(() => ({ status: 200, body: "<html>gateway</html>" }));
    const a = a2aAgent({ url: garbage.url, retries: 1, ...FAST });
    const notATask = await fakeServer(() => ({
      status: 200,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, result: { hello: "world" } }),
    }));
    const b = a2aAgent({ url: notATask.url, retries: 0, ...FAST });
    const broken = await fakeServer(() => ({ status: 503, body: "{}" }));
    const c = a2aAgent({ url: broken.url, retries: 0, ...FAST });
    const caller = workflow("caller", async (ctx, which: string) => {
      const remoteAgent = which === "a" ? a : which === "b" ? b : c;
      return (await remoteAgent.send(ctx, "ask", "hi")).text;
    });
    const engine = await sqliteEngine({ workflows: [caller] });
    const ea = await failure((await engine.start(caller, "a")).result());
    expect(isEndureError(ea, "a2a_response_invalid")).toBe(true);
    expect(ea.message).toMatch(/not JSON/);
    expect(garbage.requests).toHaveLength(2);
    const eb = await failure((await engine.start(caller, "b")).result());
    expect(isEndureError(eb, "a2a_response_invalid")).toBe(true);
    expect(eb.message).toMatch(/not an A2A task/);
    const ec = await failure((await engine.start(caller, "c")).result());
    expect(isEndureError(ec, "a2a_unavailable")).toBe(true);
    expect((ec as { status?: number }).status).toBe(503);
  });

  it("refuses a task id that does not exist with A2ATaskNotFoundError, and a bad token", async () => {
    const r = await remote();
    const a = a2aAgent({ url: `${r.url}/a2a/gated`, token: OPERATOR, ...FAST });
    const noToken = a2aAgent({ url: `${r.url}/a2a/gated`, ...FAST });
    const caller = workflow("caller", async (ctx, which: string) =>
      which === "missing"
        ? (await a.wait(ctx, "wait", "a2a-00000000000000000000000000000000")).text
        : (await noToken.send(ctx, "ask", "hi")).text,
    );
    const engine = await sqliteEngine({ workflows: [caller] });
    const missing = (await failure((await engine.start(caller, "missing")).result())) as Error & {
      taskId?: string;
    };
    expect(isEndureError(missing, "a2a_task_not_found")).toBe(true);
    expect(missing.taskId).toBe("a2a-00000000000000000000000000000000");
    const refused = await failure((await engine.start(caller, "token")).result());
    expect(isEndureError(refused, "a2a_request_refused")).toBe(true);
    expect((refused as { rpcCode?: number }).rpcCode).toBe(401);
    // Refusals are not retried: one attempt each.
    expect(await runsOf(r.engine, "gated")).toHaveLength(0);
  });

  it("refuses options past A2A_POLLS_MAX, and takes them at the limit", () => {
    const max = aiLimits.A2A_POLLS_MAX;
    const at = { url: "http://127.0.0.1:1/a2a/x", pollEvery: 1_000, pollMax: 1_000 };
    expect(() => a2aAgent({ ...at, timeout: max * 1_000 })).not.toThrow();
    expect(() => a2aAgent({ ...at, timeout: (max + 1) * 1_000 })).toThrow(/A2A_POLLS_MAX/);
    expect(() => a2aAgent({ url: "ftp://x" })).toThrow(/http or https/);
    expect(() => a2aAgent({ url: "not a url" })).toThrow(/not a URL/);
    expect(() => a2aAgent({ url: "http://x/a2a/y", pollEvery: "1m", pollMax: "1s" })).toThrow(
      /pollMax/,
    );
    // The defaults: 1 s doubling to 5 min over 7 days stays within the limit.
    expect(a2aAgent({ url: "http://x/a2a/y" }).name).toBe("y");
  });
});

describe("a2aAgent waiting long", () => {
  it("is evicted from memory between reads and woken by its durable timers", async () => {
    started = 0;
    const r = await remote();
    const slow = a2aAgent({
      url: `${r.url}/a2a/gated`,
      token: OPERATOR,
      pollEvery: "150ms",
      pollMax: "300ms",
      timeout: "10m",
    });
    const caller = workflow("caller", async (ctx) => (await slow.send(ctx, "ask", "later")).text);
    const engine = await sqliteEngine({
      workflows: [caller],
      worker: { inMemoryWait: "50ms", pollInterval: 20 },
    });
    const run = await engine.start(caller, undefined, { id: "caller-evicted" });
    await eventually(() => started === 1);
    // Between reads the run is out of memory, waiting on a timer.
    await eventually(async () => (await engine.getRun("caller-evicted"))?.status === "waiting");
    const polls = async () =>
      (await engine.journal("caller-evicted")).filter(
        (e) => e.type === "step_succeeded" && e.key?.startsWith("ask poll"),
      ).length;
    await eventually(async () => (await polls()) >= 3);
    const task = await first(runsOf(r.engine, "gated"));
    await r.engine.signal(task?.id ?? "", "release", "go");
    expect(await run.result()).toBe("answered later (go)");
    expect(started).toBe(1);
  });

  it("stops waiting after its timeout with A2ATaskFailedError, state timed-out", async () => {
    started = 0;
    const r = await remote();
    const a = a2aAgent({
      url: `${r.url}/a2a/gated`,
      token: OPERATOR,
      pollEvery: "20ms",
      pollMax: "40ms",
      timeout: "200ms",
    });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "never")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-timeout" });
    const error = (await failure(run.result())) as Error & { state?: string; taskId?: string };
    expect(isEndureError(error, "a2a_task_failed")).toBe(true);
    expect(error.state).toBe("timed-out");
    const task = await first(runsOf(r.engine, "gated"));
    expect(error.taskId).toBe(task?.id);
    // 20 + 40 + 40 + 40 + 40 + 20 ms of sleeps: six reads, each a sleep and a step.
    const journal = await engine.journal("caller-timeout");
    const reads = journal.filter(
      (e) => e.type === "step_succeeded" && e.key?.startsWith("ask poll"),
    );
    expect(reads).toHaveLength(6);
  });

  it("cancels the remote task when the calling run is cancelled", async () => {
    started = 0;
    const r = await remote();
    const a = a2aAgent({ url: `${r.url}/a2a/gated`, token: OPERATOR, ...FAST });
    const caller = workflow("caller", async (ctx) => (await a.send(ctx, "ask", "never")).text);
    const engine = await sqliteEngine({ workflows: [caller] });
    const run = await engine.start(caller, undefined, { id: "caller-cancelled" });
    await eventually(() => started === 1);
    const task = await first(runsOf(r.engine, "gated"));
    // Once the message is sent (the send step committed) the run knows the task to cancel.
    await eventually(async () =>
      (await engine.journal("caller-cancelled")).some(
        (e) => e.type === "step_succeeded" && e.key === "ask#1",
      ),
    );
    await engine.cancel("caller-cancelled", "no longer needed");
    const error = await failure(run.result());
    expect(isEndureError(error, "run_cancelled")).toBe(true);
    await eventually(async () => (await r.engine.getRun(task?.id ?? ""))?.status === "cancelled");
    const journal = await engine.journal("caller-cancelled");
    expect(journal.some((e) => e.type === "step_succeeded" && e.key === "ask cancel#1")).toBe(true);
  });
});
