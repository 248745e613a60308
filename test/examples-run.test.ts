// Proves the examples run as a reader runs them, `npx tsx examples/<name>.ts`, each as a
// child process in a fresh directory, and checks what each one claims from its output: the
// revision loop's rounds and journaled comments, the enrichment's retries after 429s with
// each contact enriched once (and no call on a second run, answered from the journal), the
// triage's days of virtual time, one report per scheduled tick, and an approval decided by
// a second process whose engine executes nothing; an agent calling a real MCP server over
// stdio (each call sent once with its idempotency key, nothing sent on a rerun); an AI SDK
// streamText answer read over HTTP by a client that drops mid-answer and reconnects; an
// agent served over A2A to the official A2A client; an agent delegating to other endure
// agents over A2A, with the remote approval answered in the calling run; and an endless agent that continues
// as new every few turns.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const tsx = import.meta.resolve("tsx");

/** Runs examples/<name>.ts in `cwd` (a fresh directory unless given); its output lines. */
async function run(name: string, cwd = tempDir()): Promise<string[]> {
  const file = join(root, "examples", `${name}.ts`);
  const { stdout } = await exec(process.execPath, ["--import", tsx, file], {
    cwd,
    timeout: 60_000,
  });
  return stdout.trimEnd().split("\n");
}

describe("examples run with tsx", () => {
  it("a2a: the SDK client streams the agent's task to input-required, approves, reads the artifact", async () => {
    expect(await run("a2a")).toEqual([
      "card: refunds: Refunds orders, with a person's approval; skills refunds, refund",
      "status: TASK_STATE_INPUT_REQUIRED",
      "artifact: Refunded $40 for order A-17.",
      "status: TASK_STATE_COMPLETED",
      "journal: approved by shop-agent@example.com: the parcel was lost",
    ]);
  });

  it("a2a-delegate: an agent's tool and a workflow delegate over A2A; the remote approval is answered in the caller", async () => {
    expect(await run("a2a-delegate")).toEqual([
      "desk: Found for you: Three leads: Acme Vectors, Northwind Search, Globex Embeddings.",
      "asked in the calling run: Allow tool 'refund' to run?",
      "support: Refunded $40 for order A-17.",
      "remote task completed: comment lost",
    ]);
  });

  it("endless agent: continues as new every three turns, under one run id", async () => {
    expect(await run("endless-agent")).toEqual([
      'result: {"customer":"Ada","turns":7,"summary":["upgrade","export","login"]}',
      "segment 1: 3 answers",
      "segment 2: 3 answers",
      "segment 3: 1 answers",
      "continued as new 2 times; one run id: conversation-ada",
    ]);
  });

  it("publishing: rejected with a comment, revised, approved, published once", async () => {
    const lines = await run("publishing");
    expect(lines).toEqual([
      'editor sees review 1: Publish "Everything about durable agents, and then some"?',
      'editor sees review 2: Publish "All about durable agents"?',
      'result: {"published":true,"title":"All about durable agents","rounds":2,"url":"https://blog.example.com/all-about-durable-agents"}',
      "journal: review 1#1 rejected by editor@example.com: shorter title",
      "journal: review 2#1 approved by editor@example.com",
    ]);
  });

  it("enrichment: each contact retried after its 429, enriched once; a rerun calls nothing", async () => {
    const dir = tempDir();
    const lines = await run("enrichment", dir);
    expect(lines.slice(0, 4).map((l) => JSON.parse(l) as unknown)).toEqual(
      ["acme", "globex", "initech", "umbrella"].map((company) =>
        expect.objectContaining({ company, attempts: 2 }),
      ),
    );
    expect(lines[4]).toBe(
      "API calls: 8, refused with 429: 4, contacts enriched: 4, each once: true",
    );
    const again = await run("enrichment", dir);
    expect(again.slice(0, 4)).toEqual(lines.slice(0, 4));
    expect(again[4]).toBe(
      "API calls: 0, refused with 429: 0, contacts enriched: 0, each once: true",
    );
  });

  it("triage: a note on day 2 answers one ticket, the other escalates on day 5", async () => {
    expect(await run("triage")).toEqual([
      "day 2.0: waiting for signal 'specialist note' since 2d; times out in 3d",
      'day 2.0: {"ticket":"T-7","queue":"billing","resolution":"Re T-7: the second charge is refunded","by":"lee@example.com"}',
      'day 5.0: {"ticket":"T-8","queue":"technical","resolution":"escalated after 5 days"}',
    ]);
  });

  it("daily report: one run per tick, each reporting the day before", async () => {
    expect(await run("daily-report")).toEqual([
      "daily-report@2026-03-02T08:00:00.000Z: 2026-03-01 sales 1200",
      "daily-report@2026-03-03T08:00:00.000Z: 2026-03-02 sales 900",
      "daily-report@2026-03-04T08:00:00.000Z: 2026-03-03 sales 1500",
    ]);
  });

  it("two-process approval: the approver decides, the worker's process finishes the run", async () => {
    const dir = tempDir();
    const lines = await run("two-process-approval", dir);
    const pid = (who: string) => {
      const line = lines.find((l) => l.startsWith(`${who} `)) ?? "";
      return /^\w+ (\d+):/.exec(line)?.[1];
    };
    const [worker, approver] = [pid("worker"), pid("approver")];
    expect(worker).toBeDefined();
    expect(approver).toBeDefined();
    expect(worker).not.toBe(approver);
    expect(lines).toEqual([
      `worker ${worker}: run expense-ana waits for the manager`,
      `approver ${approver}: Reimburse ana $120?`,
      `approver ${approver}: approved (settled), executed nothing`,
      `worker ${worker}: result {"paid":true,"by":"manager@example.com","pid":${worker}}`,
    ]);
    // Run again: the run is in the store, decided; nobody is asked twice.
    const again = await run("two-process-approval", dir);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatch(
      /^worker \d+: result \{"paid":true,"by":"manager@example.com","pid":\d+\}$/,
    );
  });

  it("mcp-agent: the MCP server's tools as steps, each call sent once with its key", async () => {
    const dir = tempDir();
    const key = (tool: string) => `support-42/tool kb_${tool}#1`;
    const lines = await run("mcp-agent", dir);
    expect(lines).toEqual([
      "started run support-42",
      '→ kb_search_articles {"query":"refund annual plan"}',
      '← [{"id":"kb-12","title":"Refunds for annual plans"}]',
      '→ kb_read_article {"id":"kb-12"}',
      "← Annual plans are refunded pro rata within 30 days of renewal. Past 30 days, support opens a billing ticket.",
      '→ kb_open_ticket {"team":"billing","summary":"Refund of an annual plan renewed 45 days ago"}',
      "← ticket T-100 opened for billing",
      "answer: Annual plans are refunded pro rata within 30 days of renewal. Past 30 days, support opens a billing ticket. The renewal was 45 days ago, so: ticket T-100 opened for billing.",
      "journaled steps: mcp tools kb#1, model#1, tool kb_search_articles#1, model#2, tool kb_read_article#1, model#3, tool kb_open_ticket#1, model#4",
      `the MCP server saw: list; call search_articles ${key("search_articles")}; ` +
        `call read_article ${key("read_article")}; call open_ticket ${key("open_ticket")}`,
    ]);
    const again = await run("mcp-agent", dir);
    expect(again[0]).toBe("run support-42 exists: reading it");
    expect(again.slice(1, -1)).toEqual(lines.slice(1, -1));
    expect(again.at(-1)).toBe("the MCP server saw: nothing");
    const tickets = readFileSync(join(dir, ".endure/tickets.jsonl"), "utf8").trim().split("\n");
    expect(tickets.map((t) => JSON.parse(t) as unknown)).toEqual([
      expect.objectContaining({ id: "T-100", team: "billing", key: key("open_ticket") }),
    ]);
  });

  it("ai-sdk-chat: a client drops mid-answer, reconnects from its offset, misses nothing", async () => {
    const dir = tempDir();
    const answer =
      "A durable run writes each step to its journal before moving on, so a crash costs " +
      "nothing: the next worker replays the journal and carries on from the last step.";
    const lines = await run("ai-sdk-chat", dir);
    expect(lines).toEqual([
      "POST /v1/workflows/chat/runs -> 201, run chat-1",
      'disconnected after offset 6 (run running): "A durable run writes"',
      "reconnected from offset 7: 36 parts in all, each offset once and in order: true",
      `message: ${answer}`,
      "run completed, same text as its output: true",
      "model calls in this process: 1",
    ]);
    // A second process reads the whole answer back from the store; the model is not called.
    const again = await run("ai-sdk-chat", dir);
    expect(again[0]).toBe("POST /v1/workflows/chat/runs -> 200, run chat-1");
    expect(again[1]).toBe('disconnected after offset 6 (run completed): "A durable run writes"');
    expect(again.slice(2, 5)).toEqual(lines.slice(2, 5));
    expect(again[5]).toBe("model calls in this process: 0");
  });
});
