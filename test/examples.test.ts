// Proves the runnable examples run (npm run demo has its own test, demo.test.ts): the
// agent example runs offline on its scripted model, approves its own outreach, saves its lead
// once, and picks a real model when the environment names one; the API example serves an
// engine over HTTP and an approver token decides its run's approval through endure/client;
// the memory example remembers a customer across tickets, two of them at once.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { main as agentDemo, modelFromEnv } from "../examples/agent.js";
import { main as apiDemo } from "../examples/api.js";
import { main as memoryDemo } from "../examples/memory.js";
import { main as supplyChain } from "../examples/supply-chain.js";
import { main as encryptedDemo } from "../examples/encrypted.js";
import { tempDir } from "./helpers.js";

describe("examples", () => {
  it("runs the supply-chain example: two of three parties answer, the third is withdrawn", async () => {
    const path = join(tempDir(), "supply.db");
    const lines: string[] = [];
    const first = await supplyChain({
      path,
      deadline: "10s",
      replyMs: 30,
      log: (l) => lines.push(l),
    });
    // The two answers may be handed over in either order when they land in one commit.
    expect(first).toMatchObject({ shipment: "SHP-1042", plan: "new date 2026-03-11" });
    expect([...(first as { from: string[] }).from].sort()).toEqual(["vendor", "warehouse"]);
    expect(lines).toContain("wait_cancelled carrier answer#1");
    expect(lines).toContain("sleep_cancelled deadline#1");
    expect(lines).toContain("combinator_settled some#1");
    expect(lines).toContain("combinator_settled race#1");
    const again: string[] = [];
    expect(await supplyChain({ path, deadline: "10s", log: (l) => again.push(l) })).toEqual(first);
    expect(again[0]).toBe("run delay-SHP-1042 exists: resuming or reading it");
  });

  it("runs the supply-chain example to its deadline when only one party answers in time", async () => {
    const lines: string[] = [];
    const result = await supplyChain({
      path: join(tempDir(), "late.db"),
      answering: ["carrier", "vendor"],
      deadline: 300,
      replyMs: 200,
      log: (l) => lines.push(l),
    });
    expect(result).toEqual({
      shipment: "SHP-1042",
      plan: "escalated to a person: fewer than two parties answered in time",
    });
    // The vendor answered after the deadline: its wait was withdrawn, the answer reached no one.
    expect(lines).toContain("vendor answered");
    expect(lines).toContain("wait_cancelled vendor answer#1");
    expect(lines).toContain("wait_cancelled warehouse answer#1");
    expect(lines).toContain("combinator_cancelled some#1");
    expect(lines).not.toContain("wait_cancelled carrier answer#1");
  });

  it("runs the encryption example: nothing readable in the file, old runs read after a rotation without the old key", async () => {
    const lines: string[] = [];
    const out = await encryptedDemo({ path: join(tempDir(), "e.db"), log: (l) => lines.push(l) });
    expect(out.summary).toBe("Grace Hopper: allergic to penicillin");
    expect(lines).toEqual([
      "result: Grace Hopper: allergic to penicillin",
      "plaintext in the file: false",
      "run keys wrapped again under 2026-02: 1",
      "after rotation, without the old key: Grace Hopper: allergic to penicillin",
      "journal verified: all 4 entries in order",
    ]);
  });

  it("runs the agent example offline, and again from its journal", async () => {
    const dir = tempDir();
    const path = join(dir, "agent.db");
    let out = "";
    const first = (await agentDemo({ path, env: {}, log: (t) => (out += t) })) as { text: string };
    expect(first.text).toContain("Best lead: Weaviate");
    expect(out).toContain("started run scout-demo on the offline scripted model");
    expect(out).toContain("→ searchCompanies");
    expect(out).toContain("approving: Send the outreach email to founders@weaviate.io?");
    expect(out).toContain("model calls: 4");
    const crm = readFileSync(join(dir, "crm.jsonl"), "utf8").trim().split("\n");
    expect(crm).toEqual([
      '{"name":"Weaviate","domain":"weaviate.io","score":1,"key":"scout-demo/tool saveLead#1"}',
    ]);
    let again = "";
    expect(await agentDemo({ path, env: {}, log: (t) => (again += t) })).toEqual(first);
    expect(again).toContain("run scout-demo exists");
    expect(readFileSync(join(dir, "crm.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("runs the API example: a 202 start, an approval decided over HTTP, the stream read back", async () => {
    const lines: string[] = [];
    const output = await apiDemo({ path: join(tempDir(), "api.db"), log: (l) => lines.push(l) });
    expect(output).toEqual({ refunded: true, by: "manager@example.com" });
    expect(lines.some((l) => /-> 202: waiting for approval 'refund'/.test(l))).toBe(true);
    expect(lines).toContain("approved by manager@example.com: settled");
    expect(lines).toContain(
      "stream: order A-1009 is refundable. refunded, approved by manager@example.com.",
    );
  });

  it("runs the memory example: notes kept across tickets, none lost by two at once", async () => {
    const lines: string[] = [];
    const notes = await memoryDemo({
      path: join(tempDir(), "memory.db"),
      log: (l) => lines.push(l),
    });
    expect(notes?.tickets).toBe(3);
    expect([...(notes?.notes ?? [])].sort()).toEqual(
      ["VIP", "invoices in EUR", "on the gold plan", "prefers e-mail"].sort(),
    );
    expect(notes?.notes[0]).toBe("prefers e-mail");
    expect(notes?.notes.at(-1)).toBe("VIP");
    expect(lines[0]).toBe("T-1: Hello! Thanks for ticket T-1.");
    expect(lines.filter((l) => l.includes("Hello again! Noted: prefers e-mail"))).toHaveLength(2);
    expect(lines).toContain("version 4 by maria@acme.io");
    expect(lines.filter((l) => /^version \d by /.test(l))).toHaveLength(4);
    expect(lines).toContain("customers remembered: acme");
  });

  it("picks a real model from the environment when one is named", () => {
    const openai = modelFromEnv({
      OPENAI_BASE_URL: "http://127.0.0.1:1/v1",
      OPENAI_MODEL: "llama3.1",
    });
    expect([openai.model.provider, openai.model.model]).toEqual(["openai-compatible", "llama3.1"]);
    const claude = modelFromEnv({ ANTHROPIC_API_KEY: "k" });
    expect(claude.model.provider).toBe("anthropic");
    expect(modelFromEnv({}).model.provider).toBe("scripted");
  });
});
