// Proves the agent loop on a real SQLite file with scripted models: model and tool calls are
// journaled steps with stable idempotency keys; malformed JSON, unknown tools, invalid
// arguments, throwing tools, failed verification, empty replies and too many turns each have
// a defined outcome and a clear journal entry; the output stream follows the AI SDK's parts.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isEndureError, limits, type JournalRecord, type StreamChunk } from "endure";
import {
  agent,
  aiLimits,
  scriptedModel,
  tool,
  type ModelRequest,
  type ScriptedReply,
  type ToolMessage,
} from "endure/ai";
import { sqliteEngine } from "../helpers.js";

const steps = (journal: JournalRecord[]) =>
  journal.filter((e) => e.type === "step_succeeded" || e.type === "step_failed").map((e) => e.key);

const stepData = (journal: JournalRecord[], key: string) =>
  journal.find((e) => (e.type === "step_succeeded" || e.type === "step_failed") && e.key === key)
    ?.data as { result?: unknown; error?: Error } | undefined;

/** The tool messages the model received in its last request. */
const toolMessages = (request: ModelRequest) =>
  request.messages.filter((m): m is ToolMessage => m.role === "tool");

async function parts(stream: AsyncIterable<StreamChunk>) {
  const out: StreamChunk["part"][] = [];
  for await (const { part } of stream) out.push(part);
  return out;
}

const add = tool({
  description: "Add two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => a + b,
});

describe("agent", () => {
  it("runs model and tools as journaled steps and streams AI SDK parts", async () => {
    const keys: string[] = [];
    const note = tool({
      description: "Write a note",
      input: z.object({ text: z.string() }),
      run: ({ text }, { idempotencyKey }) => {
        keys.push(idempotencyKey);
        return `noted: ${text}`;
      },
    });
    const seen: ModelRequest[] = [];
    const model = scriptedModel([
      (r) => {
        seen.push(r);
        return {
          toolCalls: [
            { name: "add", input: { a: 2, b: 3 } },
            { name: "note", input: { text: "hi" } },
          ],
        };
      },
      (r) => {
        seen.push(r);
        return "The sum is 5.";
      },
    ]);
    const calc = agent("calc", { model, system: "You add.", tools: { add, note }, maxTurns: 4 });
    const engine = await sqliteEngine({ workflows: [calc] });
    const run = await engine.start(calc, { prompt: "What is 2 + 3?" }, { id: "calc-1" });
    const result = await run.result();
    expect(result).toMatchObject({ text: "The sum is 5.", turns: 2, toolCalls: 2 });
    expect(result.usage.calls).toBe(2);
    expect(keys).toEqual(["calc-1/tool note#1"]);
    expect(seen[0]).toMatchObject({
      system: "You add.",
      messages: [{ role: "user", content: "What is 2 + 3?" }],
    });
    expect(seen[0]?.tools?.map((t) => t.name)).toEqual(["add", "note"]);
    expect(seen[0]?.tools?.[0]?.inputSchema).toMatchObject({
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
    });
    expect(toolMessages(seen[1]!)).toEqual([
      { role: "tool", toolCallId: "call_0_0", name: "add", content: "5" },
      { role: "tool", toolCallId: "call_0_1", name: "note", content: "noted: hi" },
    ]);
    const journal = await engine.journal(run.id);
    expect(steps(journal)).toEqual(["model#1", "tool add#1", "tool note#1", "model#2"]);
    expect(stepData(journal, "model#1")?.result).toMatchObject({
      toolCalls: [{ name: "add", arguments: '{"a":2,"b":3}' }, { name: "note" }],
    });
    const types = (await parts(run.stream())).map((p) => p.type);
    expect(types).toEqual([
      "start",
      "start-step",
      "tool-input-available",
      "tool-input-available",
      "tool-output-available",
      "tool-output-available",
      "finish-step",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect((await engine.readStream(run.id))[2]?.part).toMatchObject({
      type: "tool-input-available",
      toolCallId: "call_0_0",
      toolName: "add",
      input: { a: 2, b: 3 },
    });
  });

  it("answers malformed JSON, unknown tools and invalid arguments as tool errors, journaled", async () => {
    let last: ModelRequest | undefined;
    const model = scriptedModel([
      {
        toolCalls: [
          { name: "add", arguments: '{"a": 1, "b":' },
          { name: "multiply", input: { a: 1 } },
          { name: "add", input: { a: "one", b: 2 } },
        ],
      },
      (r) => {
        last = r;
        return "I could not compute it.";
      },
    ]);
    const calc = agent("faulty", { model, tools: { add } });
    const engine = await sqliteEngine({ workflows: [calc] });
    const run = await engine.start(calc, { prompt: "compute" });
    expect((await run.result()).text).toBe("I could not compute it.");
    const answers = toolMessages(last!);
    expect(answers.every((m) => m.isError === true)).toBe(true);
    expect(answers[0]?.content).toMatch(
      /^Error: the arguments of tool 'add' are not valid JSON \(/,
    );
    expect(answers[1]?.content).toBe(
      "Error: there is no tool named 'multiply'; the tools are: add",
    );
    expect(answers[2]?.content).toMatch(
      /^Error: the arguments of tool 'add' do not match its input schema: a: /,
    );
    const journal = await engine.journal(run.id);
    expect(steps(journal)).toEqual([
      "model#1",
      "reject tool call#1",
      "reject tool call#2",
      "reject tool call#3",
      "model#2",
    ]);
    expect(stepData(journal, "reject tool call#2")?.result).toBe(answers[1]?.content);
    const streamed = await parts(run.stream());
    expect(streamed.filter((p) => p.type === "tool-input-error")).toHaveLength(3);
  });

  it("retries a throwing tool by its own policy, then tells the model it failed", async () => {
    let attempts = 0;
    const flaky = tool({
      description: "Always fails",
      input: z.object({}),
      retries: 2,
      backoff: { initial: 1, max: 2 },
      run: (): string => {
        attempts++;
        throw new Error("service down");
      },
    });
    let last: ModelRequest | undefined;
    const model = scriptedModel([
      { toolCalls: [{ name: "flaky", input: {} }] },
      (r) => {
        last = r;
        return "The service is down.";
      },
    ]);
    const a = agent("flaky-agent", { model, tools: { flaky } });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "try" });
    expect((await run.result()).text).toBe("The service is down.");
    expect(attempts).toBe(3);
    expect(toolMessages(last!)[0]).toMatchObject({
      isError: true,
      content: "Error: tool 'flaky' failed: service down",
    });
    const journal = await engine.journal(run.id);
    expect(journal.filter((e) => e.type === "step_attempt_failed")).toHaveLength(2);
    expect((stepData(journal, "tool flaky#1")?.error as Error).message).toBe("service down");
  });

  it("retries a tool until its verify check passes (Reason-Act-Verify)", async () => {
    let n = 0;
    const fetchPage = tool({
      description: "Fetch a page",
      input: z.object({ url: z.string() }),
      backoff: { initial: 1, max: 2 },
      run: () => (++n < 3 ? "<html>loading…" : "<html>Acme Freight, 120 staff</html>"),
      verify: (page, { url }) => page.includes("staff") || `${url} not fully loaded`,
    });
    const model = scriptedModel([
      { toolCalls: [{ name: "fetchPage", input: { url: "https://acme.test" } }] },
      "Acme has 120 staff.",
    ]);
    const a = agent("verifier", { model, tools: { fetchPage } });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "size of acme?" });
    expect((await run.result()).text).toBe("Acme has 120 staff.");
    const failures = (await engine.journal(run.id)).filter(
      (e) => e.type === "step_verification_failed",
    );
    expect(failures).toHaveLength(2);
    expect(String((failures[0]?.data as { error: Error }).error.message)).toContain(
      "https://acme.test not fully loaded",
    );
  });

  it("sends a refused final answer back to the model with the reason (agent verify)", async () => {
    let feedback = "";
    const model = scriptedModel([
      "Maybe 4?",
      (r) => {
        feedback = r.messages.at(-1)?.content ?? "";
        return "4";
      },
    ]);
    const a = agent("checked", {
      model,
      verify: (answer) => /^\d+$/.test(answer) || "answer with digits only",
    });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "2+2?" });
    expect((await run.result()).text).toBe("4");
    expect(feedback).toBe(
      "Your answer was not accepted: answer with digits only. Work on it, then answer again.",
    );
    const journal = await engine.journal(run.id);
    expect(stepData(journal, "verify answer#1")?.result).toBe("answer with digits only");
    expect(stepData(journal, "verify answer#2")?.result).toBe(true);
  });

  it("reminds the model once after an empty reply, and fails after a second in a row", async () => {
    const reminded = scriptedModel([
      "",
      (r) => (r.messages.at(-1)?.content.includes("was empty") === true ? "ok" : "no reminder"),
    ]);
    const empty = scriptedModel(["", ""]);
    const a = agent("reminded", { model: reminded });
    const b = agent("silent", { model: empty });
    const engine = await sqliteEngine({ workflows: [a, b] });
    const ok = await engine.start(a, { prompt: "hi" });
    expect((await ok.result()).text).toBe("ok");
    expect(steps(await engine.journal(ok.id))).toEqual([
      "model#1",
      "remind empty reply#1",
      "model#2",
    ]);
    const bad = await engine.start(b, { prompt: "hi" });
    const error = await bad.result().catch((e: unknown) => e);
    expect(isEndureError(error, "model_empty_reply")).toBe(true);
    expect((error as Error).message).toContain(
      `${aiLimits.EMPTY_REPLIES_MAX + 1} times in a row, at turn 2`,
    );
    const streamed = await parts(bad.stream());
    expect(streamed.at(-1)).toMatchObject({ type: "error" });
  });

  it("fails with MaxTurnsExceededError after exactly maxTurns model calls", async () => {
    let calls = 0;
    const looping = scriptedModel(() => {
      calls++;
      return { toolCalls: [{ name: "add", input: { a: 1, b: 1 } }] };
    });
    const a = agent("looping", { model: looping, tools: { add }, maxTurns: 3 });
    const d = agent("default-turns", { model: looping, tools: { add } });
    const engine = await sqliteEngine({ workflows: [a, d] });
    const run = await engine.start(a, { prompt: "loop" });
    await expect(run.result()).rejects.toMatchObject({
      code: "max_turns_exceeded",
      message: expect.stringContaining("used its 3 turns without a final answer"),
    });
    expect(calls).toBe(3);
    const journal = await engine.journal(run.id);
    expect(journal.at(-1)?.type).toBe("run_failed");
    calls = 0;
    await expect((await engine.start(d, { prompt: "loop" })).result()).rejects.toMatchObject({
      code: "max_turns_exceeded",
    });
    expect(calls).toBe(aiLimits.AGENT_TURNS_DEFAULT);
  });

  it("refuses bad input at start and bad options at definition", async () => {
    const model = scriptedModel(["x"]);
    const a = agent("strict", { model });
    const engine = await sqliteEngine({ workflows: [a] });
    await expect(engine.start(a, { prompt: "  " })).rejects.toMatchObject({
      code: "input_invalid",
    });
    await expect(engine.start(a, { messages: [] })).rejects.toMatchObject({
      code: "input_invalid",
    });
    await expect(engine.start(a, "hello" as never)).rejects.toMatchObject({
      code: "input_invalid",
    });
    expect(() => agent("x", { model, maxTurns: 0 })).toThrow(/maxTurns must be a whole number/);
    expect(() => agent("x", { model, maxTurns: aiLimits.AGENT_TURNS_MAX + 1 })).toThrow(
      /from 1 to 1000/,
    );
    expect(() => agent("x", { model, maxTurns: aiLimits.AGENT_TURNS_MAX })).not.toThrow();
    expect(() => agent("x", {} as never)).toThrow(/needs a model/);
    expect(() => agent("x", { model, tools: { "bad name": add } })).toThrow(/tool name 'bad name'/);
    expect(() => agent("x", { model, tools: { add: (() => 1) as never } })).toThrow(
      /'add' is not a tool/,
    );
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, add]));
    expect(() => agent("x", { model, tools: many(aiLimits.AGENT_TOOLS_MAX) })).not.toThrow();
    expect(() => agent("x", { model, tools: many(aiLimits.AGENT_TOOLS_MAX + 1) })).toThrow(
      /offers 129 tools; the limit is 128/,
    );
    expect(() => agent("x", { model, budget: { usd: 1 } })).toThrow(/needs a price/);
    expect(() => agent("x", { model, budget: {} })).toThrow(/needs tokens, usd, or both/);
    expect(() => agent("x", { model, budget: { tokens: -1 } })).toThrow(/above 0/);
    expect(() => tool({ description: "", input: z.object({}), run: () => 1 })).toThrow(
      /needs a description/,
    );
    expect(() => tool({ description: "d", input: z.string(), run: () => 1 })).toThrow(
      /must be an object schema/,
    );
  });

  it("cuts tool results for the model at the limit, keeping the whole result in the journal", async () => {
    const max = aiLimits.TOOL_RESULT_CHARS_MAX;
    const big = tool({
      description: "Big",
      input: z.object({ n: z.number() }),
      run: ({ n }) => "x".repeat(n),
    });
    let last: ModelRequest | undefined;
    const model = scriptedModel([
      {
        toolCalls: [
          { name: "big", input: { n: max } },
          { name: "big", input: { n: max + 1 } },
        ],
      },
      (r) => {
        last = r;
        return "done";
      },
    ]);
    const a = agent("big-results", { model, tools: { big } });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "go" });
    await run.result();
    const [exact, over] = toolMessages(last!);
    expect(exact?.content).toHaveLength(max);
    expect(over?.content.startsWith("x".repeat(max))).toBe(true);
    expect(over?.content).toContain(`[cut: the result has ${max + 1} characters`);
    expect(stepData(await engine.journal(run.id), "tool big#2")?.result).toHaveLength(max + 1);
  });

  it("shows arguments and results over the stream's part limit in shortened form", async () => {
    const huge = "y".repeat(limits.STREAM_PART_BYTES_MAX);
    const echo = tool({
      description: "Echo",
      input: z.object({ text: z.string() }),
      run: ({ text }) => ({ text }),
    });
    const model = scriptedModel([{ toolCalls: [{ name: "echo", input: { text: huge } }] }, "ok"]);
    const a = agent("huge", { model, tools: { echo } });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, { prompt: "go" });
    expect((await run.result()).text).toBe("ok");
    const streamed = await parts(run.stream());
    expect(streamed.find((p) => p.type === "tool-input-available")?.["input"]).toBe(
      "[too large to show here: see the journal]",
    );
    const output = streamed.find((p) => p.type === "tool-output-available")?.["output"];
    expect(String(output)).toContain("[cut: the result has");
  });

  it("continues a conversation given as messages, and loads tools in the run", async () => {
    let first: ModelRequest | undefined;
    const model = scriptedModel([
      (r) => {
        first = r;
        return "Blue.";
      },
    ] as ScriptedReply[]);
    const a = agent("chat", { model, tools: async () => ({ add }) });
    const engine = await sqliteEngine({ workflows: [a] });
    const run = await engine.start(a, {
      messages: [
        { role: "user", content: "Pick a colour" },
        { role: "assistant", content: "Red?" },
        { role: "user", content: "Another" },
      ],
    });
    expect((await run.result()).text).toBe("Blue.");
    expect(first?.messages).toHaveLength(3);
    expect(first?.tools?.map((t) => t.name)).toEqual(["add"]);
  });
});
