// The A2A client survives SIGKILL on real processes: a caller process delegates to a second
// endure server's A2A workflow (gated by a signal) and is killed with SIGKILL while it waits
// for the remote task; a new caller process resumes the run from its journal, the remote is
// released, the answer arrives, and the remote received the message exactly once (one run).
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { serve, TOKENS } from "../server/support.js";
import { spawnNode } from "../support/processes.js";

const CALLER = new URL("../fixtures/a2a-caller.mjs", import.meta.url).pathname;
const OPERATOR = TOKENS.find((t) => t.role === "operator")?.token ?? "";

let started = 0;
const gated = workflow(
  "gated",
  async (ctx, input: { text: string }) => {
    await ctx.step("count", () => ++started);
    const go = await ctx.waitForSignal<string>("release", { timeout: "1h" });
    return `summary of ${input.text} (${go?.data ?? "no"})`;
  },
  { a2a: { description: "Summarizes, when released" } },
);

describe("A2A client crash recovery (SIGKILL)", () => {
  it("resumes a caller killed while it waits: the message is sent once and the answer arrives", async () => {
    started = 0;
    const remote = await serve({ workflows: [gated] });
    const url = `${remote.url}/a2a/gated`;
    const db = join(tempDir(), "caller.db");

    const first = spawnNode(CALLER, ["start", db, url, OPERATOR]);
    await first.waitFor(/^polling$/);
    first.process.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");

    const { runs } = await remote.engine.listRuns({ workflow: "gated" });
    expect(runs).toHaveLength(1);
    const task = runs[0]?.id ?? "";
    expect(started).toBe(1);

    const second = spawnNode(CALLER, ["resume", db, url, OPERATOR]);
    // The new caller polls the remote task again before it ends.
    await new Promise((r) => setTimeout(r, 300));
    await remote.engine.signal(task, "release", "approved");
    const line = await second.waitFor(/^result /);
    expect(JSON.parse(line.slice("result ".length))).toEqual({
      text: "summary of the quarterly numbers (approved)",
      taskId: task,
    });
    await second.waitFor(/^exit$/);
    expect(second.lines).toContain("sent 1");
    expect(second.lines).toContain("recovered true");
    expect((await remote.engine.listRuns({ workflow: "gated" })).runs).toHaveLength(1);
    expect(started).toBe(1);
    await eventually(async () => (await remote.engine.getRun(task))?.status === "completed");
  });

  it("resumes a caller killed while its message was in flight: the resend starts nothing new", async () => {
    started = 0;
    const remote = await serve({ workflows: [gated] });
    const db = join(tempDir(), "caller.db");
    // A proxy in front of the remote: it forwards the first message/send, then kills the
    // caller with SIGKILL before answering, so the caller's send step never commits.
    let killer: (() => void) | null = null;
    const messageIds: string[] = [];
    const proxy = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const rpc = JSON.parse(body) as {
          method: string;
          params: { message?: { messageId: string } };
        };
        if (rpc.method === "message/send") messageIds.push(rpc.params.message?.messageId ?? "");
        void fetch(`${remote.url}/a2a/gated`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR}` },
          body,
        })
          .then((answer) => answer.text())
          .then((text) => {
            if (rpc.method === "message/send" && killer !== null) {
              const kill = killer;
              killer = null;
              kill();
              req.socket.destroy();
              return;
            }
            res.writeHead(200, { "content-type": "application/json" }).end(text);
          });
      });
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    onCleanup(() => new Promise<void>((ok) => proxy.close(() => ok())));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/a2a/gated`;

    const first = spawnNode(CALLER, ["send", db, url, OPERATOR]);
    killer = () => first.process.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    expect(messageIds).toHaveLength(1);
    const { runs } = await remote.engine.listRuns({ workflow: "gated" });
    expect(runs).toHaveLength(1);
    const task = runs[0]?.id ?? "";

    const second = spawnNode(CALLER, ["resume", db, url, OPERATOR]);
    await eventually(() => messageIds.length === 2);
    await remote.engine.signal(task, "release", "approved");
    const line = await second.waitFor(/^result /);
    expect(JSON.parse(line.slice("result ".length))).toEqual({
      text: "summary of the quarterly numbers (approved)",
      taskId: task,
    });
    // The message was sent twice, with the same id: the remote started one run.
    expect(messageIds[1]).toBe(messageIds[0]);
    expect((await remote.engine.listRuns({ workflow: "gated" })).runs).toHaveLength(1);
    await eventually(() => started === 1);
    expect(started).toBe(1);
  });
});
