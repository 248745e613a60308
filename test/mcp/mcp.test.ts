// Proves MCP both ways with the official SDK over stdio, each server a real child process:
// an MCP server's tools become an agent's durable tool steps (the list read once and
// journaled, each call sent with its idempotency key, an error result answered to the model);
// and endure served over MCP lets a client start a run, read its status, send the event it
// waits for and approve it, with errors returned as error results.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { createTestClock } from "endure/testing";
import { agent, scriptedModel, type ModelRequest, type ToolMessage } from "endure/ai";
import { mcpStdio, mcpTools } from "endure/mcp";
import { eventually, onCleanup, sqliteEngine, tempDir } from "../helpers.js";

const TOOL_SERVER = new URL("../fixtures/mcp-tool-server.mjs", import.meta.url).pathname;
const ENDURE_SERVER = new URL("../fixtures/mcp-endure-server.mjs", import.meta.url).pathname;

function toolServer() {
  const log = join(tempDir(), "mcp.log");
  const conn = mcpStdio({
    name: "local",
    command: process.execPath,
    args: [TOOL_SERVER],
    env: { MCP_LOG: log, PATH: process.env["PATH"] ?? "" },
  });
  onCleanup(() => conn.close());
  const lines = () => readFileSync(log, "utf8").trim().split("\n");
  return { conn, lines };
}

describe("MCP tools in agents", () => {
  it("offers a server's tools as durable steps, with the idempotency key in _meta", async () => {
    const { conn, lines } = toolServer();
    let answers: ToolMessage[] = [];
    let offered: string[] = [];
    const model = scriptedModel([
      (r: ModelRequest) => {
        offered = (r.tools ?? []).map((t) => t.name);
        return {
          toolCalls: [
            { name: "add", input: { a: 2, b: 3 } },
            { name: "note_write", input: { text: "hi" } },
            { name: "fail", input: {} },
          ],
        };
      },
      (r: ModelRequest) => {
        answers = r.messages.filter((m): m is ToolMessage => m.role === "tool");
        return "done";
      },
    ]);
    const helper = agent("mcp-helper", { model, tools: (ctx) => mcpTools(ctx, conn) });
    const engine = await sqliteEngine({ workflows: [helper] });
    const run = await engine.start(helper, { prompt: "use the tools" }, { id: "mcp-1" });
    expect((await run.result()).text).toBe("done");
    expect(offered).toEqual(["add", "note_write", "fail"]);
    expect(answers.map((m) => m.content)).toEqual([
      "5",
      "noted: hi",
      "Error: tool 'fail' failed: MCP server 'local' tool 'fail' answered with an error: the disk is full",
    ]);
    expect(lines()).toEqual([
      "list",
      "call add mcp-1/tool add#1",
      "call note.write mcp-1/tool note_write#1",
      "call fail mcp-1/tool fail#1",
    ]);
    const journal = await engine.journal(run.id);
    const listed = journal.find(
      (e) => e.type === "step_succeeded" && e.key === "mcp tools local#1",
    );
    expect((listed?.data as { result: Array<{ name: string }> }).result.map((t) => t.name)).toEqual(
      ["add", "note.write", "fail"],
    );
  });

  it("journals the tool list: a replay does not ask the server again", async () => {
    const { conn, lines } = toolServer();
    const clock = createTestClock();
    const wf = workflow("listing", async (ctx) => {
      const tools = await mcpTools(ctx, conn, { include: ["add"], prefix: "calc_" });
      await ctx.sleep("nap", "1h");
      const sum = await ctx.step("use add", (s) =>
        tools["calc_add"]!.run({ a: 20, b: 22 }, { ...s, toolCallId: "c1", progress: () => {} }),
      );
      return { names: Object.keys(tools), sum };
    });
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, null);
    await eventually(async () => (await run.info()).status === "waiting");
    await clock.advance("1h");
    expect(await run.result()).toEqual({ names: ["calc_add"], sum: "42" });
    expect((await engine.journal(run.id)).some((e) => e.type === "run_resumed")).toBe(true);
    expect(lines().filter((l) => l === "list")).toHaveLength(1);
  });
});

describe("endure as an MCP server", () => {
  it("starts a run, reports it, sends its event and approves it, from an MCP client", async () => {
    const db = join(tempDir(), "served.db");
    const client = new Client({ name: "test-agent", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [ENDURE_SERVER, db],
        stderr: "pipe",
      }),
    );
    onCleanup(() => client.close());
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = await client.callTool({ name, arguments: args });
      return {
        error: r.isError === true,
        data: r.structuredContent as Record<string, unknown>,
        text: (r.content as Array<{ text: string }>)[0]?.text ?? "",
      };
    };
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "approve",
      "pending_approvals",
      "run_status",
      "send_event",
      "start_run",
    ]);
    const started = await call("start_run", {
      workflow: "onboarding",
      input: { customer: "acme" },
      id: "onb-1",
    });
    expect(started.data).toMatchObject({ runId: "onb-1", created: true });
    const again = await call("start_run", {
      workflow: "onboarding",
      input: { customer: "acme" },
      id: "onb-1",
    });
    expect(again.data).toMatchObject({ runId: "onb-1", created: false });
    const waiting = await eventually(async () => {
      const s = await call("run_status", { runId: "onb-1" });
      return s.data["status"] === "waiting" ? s : null;
    });
    expect(String(waiting.data["explanation"])).toContain("contract.signed");
    const sent = await call("send_event", {
      name: "contract.signed",
      data: { customer: "acme", plan: "pro" },
      id: "evt-1",
    });
    expect(sent.data).toMatchObject({ id: "evt-1", created: true });
    const pending = await eventually(async () => {
      const p = await call("pending_approvals", { runId: "onb-1" });
      return (p.data["approvals"] as Array<{ name: string; details: unknown }>)[0];
    });
    expect(pending).toMatchObject({ name: "activate", details: { customer: "acme", plan: "pro" } });
    const decided = await call("approve", {
      runId: "onb-1",
      name: "activate",
      approved: true,
      by: "mcp-agent",
      comment: "looks right",
    });
    expect(decided.data).toEqual({ outcome: "settled" });
    const done = await eventually(async () => {
      const s = await call("run_status", { runId: "onb-1" });
      return s.data["status"] === "completed" ? s : null;
    });
    expect(done.data["output"]).toEqual({ customer: "acme", active: true, by: "mcp-agent" });
    const twice = await call("approve", {
      runId: "onb-1",
      name: "activate",
      approved: false,
      by: "mcp-agent",
    });
    expect(twice.error).toBe(true);
    const unknown = await call("run_status", { runId: "nope" });
    expect(unknown).toMatchObject({ error: true, text: expect.stringContaining("run_not_found") });
    const badWorkflow = await call("start_run", { workflow: "nope" });
    expect(badWorkflow).toMatchObject({
      error: true,
      text: expect.stringContaining("workflow_not_found"),
    });
  });
});
