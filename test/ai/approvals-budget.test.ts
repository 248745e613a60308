// Proves approval-gated tools and budgets on a real SQLite file: a gated call pauses with the
// proposed call shown in engine.approvals(), runs once on approval, and on rejection is not
// run and the model gets the reviewer's comment; a budget (tokens or dollars, against a local
// model server's reported usage) stops the agent before it would go over, with totals equal to
// what the server reported, or pauses for a person to allow another budget's worth.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  agent,
  aiLimits,
  openaiCompatible,
  scriptedModel,
  tool,
  type ModelRequest,
  type ToolMessage,
} from "endure/ai";
import { eventually, sqliteEngine } from "../helpers.js";
import { startModelServer, type ModelServer } from "../fixtures/model-server.js";

type Engine = Awaited<ReturnType<typeof sqliteEngine>>;

const pendingApproval = (engine: Engine, runId: string) =>
  eventually(async () => (await engine.approvals({ runId }))[0], 10_000, "an approval");

describe("approval-gated tools", () => {
  function mailAgent(sent: string[], seen: ModelRequest[]) {
    const sendEmail = tool({
      description: "Send an email",
      input: z.object({ to: z.string(), body: z.string() }),
      approval: ({ to }) => !to.endsWith("@acme.io"),
      run: ({ to }, { idempotencyKey }) => {
        sent.push(`${to} ${idempotencyKey}`);
        return "sent";
      },
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: "sendEmail", input: { to: "cfo@client.com", body: "Offer" }, id: "call_ext" },
          { name: "sendEmail", input: { to: "team@acme.io", body: "FYI" }, id: "call_int" },
        ],
      },
      (r) => {
        seen.push(r);
        return "Done.";
      },
    ]);
    return agent("mailer", { model, tools: { sendEmail } });
  }

  it("pauses with the proposed call, and runs it once when approved", async () => {
    const sent: string[] = [];
    const seen: ModelRequest[] = [];
    const a = mailAgent(sent, seen);
    const engine = await sqliteEngine({ workflows: [a], worker: { inMemoryWait: 50 } });
    const run = await engine.start(a, { prompt: "email the offer" }, { id: "mail-1" });
    const request = await pendingApproval(engine, run.id);
    expect(request).toMatchObject({
      name: "sendEmail call_ext",
      title: "Allow tool 'sendEmail' to run?",
      details: {
        tool: "sendEmail",
        toolCallId: "call_ext",
        input: { to: "cfo@client.com", body: "Offer" },
      },
    });
    // The internal address needed no approval and went out at once.
    await eventually(() => sent.length === 1);
    // Steps are numbered as the code reaches them: the internal call ran first.
    expect(sent).toEqual(["team@acme.io mail-1/tool sendEmail#1"]);
    await eventually(async () => (await run.info()).status === "waiting");
    await engine.approve(run.id, "sendEmail call_ext", { by: "ana", comment: "go" });
    expect((await run.result()).text).toBe("Done.");
    expect(sent).toEqual([
      "team@acme.io mail-1/tool sendEmail#1",
      "cfo@client.com mail-1/tool sendEmail#2",
    ]);
    const answers = seen[0]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(answers.map((m) => m.content)).toEqual(["sent", "sent"]);
    const parts = (await engine.readStream(run.id, { limit: 100 })).map((c) => c.part);
    expect(parts).toContainEqual({
      type: "tool-approval-request",
      approvalId: "sendEmail call_ext",
      toolCallId: "call_ext",
    });
  });

  it("does not run a rejected call and tells the model who rejected it and why", async () => {
    const sent: string[] = [];
    const seen: ModelRequest[] = [];
    const a = mailAgent(sent, seen);
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "email the offer" });
    await pendingApproval(engine, run.id);
    await engine.reject(run.id, "sendEmail call_ext", { by: "bo", comment: "price is wrong" });
    expect((await run.result()).text).toBe("Done.");
    expect(sent.map((s) => s.split(" ")[0])).toEqual(["team@acme.io"]);
    const answers = seen[0]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(answers[0]).toMatchObject({
      isError: true,
      content: "Error: the call of tool 'sendEmail' was not run: bo rejected it: price is wrong",
    });
    const journal = await engine.journal(run.id);
    const decided = journal.find((e) => e.type === "wait_completed");
    expect(decided?.data).toMatchObject({ result: { approved: false, by: "bo" } });
    const parts = (await engine.readStream(run.id, { limit: 100 })).map((c) => c.part);
    expect(parts).toContainEqual({ type: "tool-output-denied", toolCallId: "call_ext" });
  });

  it("applies approval rules: a title from the input, named approvers, a timeout", async () => {
    const wire = tool({
      description: "Wire money",
      input: z.object({ amount: z.number() }),
      approval: {
        title: ({ amount }) => `Wire $${amount}?`,
        approvers: ["cfo"],
        timeout: "1h",
      },
      run: () => "wired",
    });
    const model = scriptedModel([{ toolCalls: [{ name: "wire", input: { amount: 900 } }] }, "ok"]);
    const a = agent("wirer", { model, tools: { wire } });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "pay" });
    const request = await pendingApproval(engine, run.id);
    expect(request).toMatchObject({ title: "Wire $900?", approvers: ["cfo"] });
    const ttl = request.timesOutAt.getTime() - request.requestedAt.getTime();
    expect(Math.abs(ttl - 3_600_000)).toBeLessThan(1_000);
    await expect(engine.approve(run.id, request.name, { by: "intern" })).rejects.toThrow();
    await engine.approve(run.id, request.name, { by: "cfo" });
    expect((await run.result()).text).toBe("ok");
  });
});

describe("budgets", () => {
  let server: ModelServer;
  beforeEach(async () => {
    // A model that never stops calling tools: only the budget ends the run.
    server = await startModelServer(() => ({
      toolCalls: [{ name: "add", arguments: '{"a":1,"b":2}' }],
    }));
  });
  afterEach(() => server.close());

  const add = tool({
    description: "Add",
    input: z.object({ a: z.number(), b: z.number() }),
    run: ({ a, b }) => a + b,
  });
  const prices = { "gpt-test": { input: 1000, output: 4000 } };
  const model = () =>
    openaiCompatible({ baseURL: server.openaiURL, model: "gpt-test", prices, stream: false });
  const reported = () =>
    server.calls.reduce(
      (t, c) => ({
        input: t.input + (c.usage?.input ?? 0),
        output: t.output + (c.usage?.output ?? 0),
      }),
      { input: 0, output: 0 },
    );

  it("stops a token budget before the call that would exceed it; totals match the server", async () => {
    const budget = 2_000;
    const a = agent("tokens", {
      model: model(),
      tools: { add },
      maxTurns: 100,
      budget: { tokens: budget },
    });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "add forever" });
    const error = (await run.result().then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code: string };
    expect(error).toMatchObject({ code: "budget_exceeded" });
    expect(error.message).toContain(`of its ${budget} tokens`);
    const usage = (await run.info()).usage;
    const server = reported();
    expect(usage.inputTokens).toBe(server.input);
    expect(usage.outputTokens).toBe(server.output);
    expect(usage.calls).toBe(serverCalls().length);
    const spent = usage.inputTokens + usage.outputTokens;
    expect(spent).toBeLessThanOrEqual(budget);
    // It stopped at the limit, not early: what was left would not cover the next input.
    const lastInput = serverCalls().at(-1)?.usage?.input ?? 0;
    expect(budget - spent).toBeLessThan(lastInput * 2 + aiLimits.BUDGET_OUTPUT_TOKENS_MIN);
    // Every reply was capped to what was left when it was asked for.
    let before = 0;
    for (const c of serverCalls()) {
      expect(c.body["max_tokens"]).toBeLessThanOrEqual(budget - before);
      before += (c.usage?.input ?? 0) + (c.usage?.output ?? 0);
    }
  });

  it("stops a dollar budget; cost matches the server's tokens at the price table", async () => {
    const a = agent("dollars", {
      model: model(),
      tools: { add },
      maxTurns: 100,
      budget: { usd: 1.5 },
    });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "add forever" });
    await expect(run.result()).rejects.toMatchObject({ code: "budget_exceeded" });
    const usage = (await run.info()).usage;
    const server = reported();
    expect(usage.costUsd).toBeCloseTo((server.input * 1000 + server.output * 4000) / 1e6, 9);
    expect(usage.costUsd).toBeLessThanOrEqual(1.5);
    expect(usage.calls).toBeGreaterThan(2);
  });

  it("pauses for approval at the limit: approved, it goes on; rejected, it stops with the comment", async () => {
    const a = agent("extendable", {
      model: model(),
      tools: { add },
      maxTurns: 100,
      budget: { tokens: 1_500, onExceeded: "approve", approval: { approvers: ["ops"] } },
    });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "add forever" });
    const first = await pendingApproval(engine, run.id);
    expect(first).toMatchObject({
      name: "budget 1",
      title: "Agent 'extendable' reached its budget; allow another 1500 tokens?",
      approvers: ["ops"],
    });
    const atFirst = (await run.info()).usage;
    expect(atFirst.inputTokens + atFirst.outputTokens).toBeLessThanOrEqual(1_500);
    await engine.approve(run.id, "budget 1", { by: "ops" });
    await eventually(
      async () => (await engine.approvals({ runId: run.id }))[0]?.name === "budget 2",
    );
    const atSecond = (await run.info()).usage;
    expect(atSecond.calls).toBeGreaterThan(atFirst.calls);
    expect(atSecond.inputTokens + atSecond.outputTokens).toBeLessThanOrEqual(3_000);
    await engine.reject(run.id, "budget 2", { by: "ops", comment: "enough for today" });
    await expect(run.result()).rejects.toMatchObject({
      code: "budget_exceeded",
      message: expect.stringContaining("ops declined to extend it: enough for today"),
    });
  });

  function serverCalls() {
    return server.calls;
  }
});
