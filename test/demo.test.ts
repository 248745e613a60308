// Runs `npm run demo` as a newcomer's terminal would without a TTY (a real process, which
// itself starts worker processes and kills one with SIGKILL), and checks what it claims
// against its store: the kill happened mid-run, the new worker restored the journaled steps
// and paid for no model call again, the outreach email was sent once, and the journal names
// who decided the approval. With --reject, nothing is sent and the rejection is journaled.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { JournalRecord } from "endure";
import { sqliteEngine, tempDir } from "./helpers.js";

const exec = promisify(execFile);
const DEMO = new URL("../examples/demo.ts", import.meta.url).pathname;

/** The demo's output, offline (no model endpoint in its environment). */
async function demo(db: string, ...flags: string[]): Promise<string> {
  const env = { ...process.env };
  for (const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"]) delete env[name];
  const { stdout } = await exec(
    process.execPath,
    ["--import", "tsx", DEMO, "--fast", "--db", db, ...flags],
    { env, timeout: 50_000 },
  );
  return stdout;
}

interface Counted {
  pid: number;
  key: string;
  at: number;
}

function countedCalls(db: string): Counted[] {
  return readFileSync(`${db}.model-calls.jsonl`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Counted);
}

const succeeded = (journal: JournalRecord[]) =>
  journal.filter((e) => e.type === "step_succeeded").map((e) => e.key);

describe("npm run demo", () => {
  it("kills its worker, resumes without paying a model call again, and sends the email once", async () => {
    const db = join(tempDir(), "demo.db");
    const out = await demo(db);
    const killed =
      /killed the worker \(process (\d+)\) with SIGKILL while its model call "extract Quillstack"/.exec(
        out,
      );
    expect(killed, out).not.toBeNull();
    expect(out).toContain(
      "↻ resumed: 4 of 9 steps restored from the journal, model calls re-paid: 0",
    );
    expect(out).toContain(
      "after the kill  4 of 9 steps restored from the journal, model calls re-paid: 0",
    );
    expect(out).toContain(
      "fetch Quillstack: attempt 1 of 4 failed (/companies/quillstack answered 503",
    );
    expect(out).toContain("no terminal to ask: the demo approves by itself");
    expect(out).toContain(
      "outreach     sent to partnerships@harborlabs.example, once (the outbox holds 1 email; message msg-1)",
    );
    expect(out).toContain("model calls     4 journaled, 5 made");
    expect(out).toContain(`npx endure dev examples/demo.ts --store ${db}`);
    expect(out).toContain("http://127.0.0.1:4100/#/runs/scout-1");

    const engine = await sqliteEngine({ path: db, worker: false });
    const run = await engine.getRun("scout-1");
    expect(run?.status).toBe("completed");
    expect(run?.output).toMatchObject({ best: "Harbor Labs", sent: true, messageId: "msg-1" });
    expect(run?.usage.calls).toBe(4);
    const journal = await engine.journal("scout-1");
    // Every step once, in order; the kill and the recovery in between.
    expect(succeeded(journal)).toEqual([
      "search#1",
      "fetch Parcelbird#1",
      "extract Parcelbird#1",
      "fetch Quillstack#1",
      "extract Quillstack#1",
      "fetch Harbor Labs#1",
      "extract Harbor Labs#1",
      "summarize#1",
      "send outreach#1",
    ]);
    const recovered = journal.findIndex((e) => e.type === "run_recovered");
    expect(recovered).toBeGreaterThan(
      journal.findIndex((e) => e.key === "fetch Quillstack#1" && e.type === "step_succeeded"),
    );
    // The four steps before the kill were not attempted again after it.
    const again = journal
      .slice(recovered)
      .filter((e) => e.type === "step_attempt_started")
      .map((e) => e.key);
    expect(again).not.toContain("extract Parcelbird#1");
    expect(again).not.toContain("fetch Quillstack#1");
    // The email: attempted once, sent once.
    expect(
      journal.filter((e) => e.type === "step_attempt_started" && e.key === "send outreach#1"),
    ).toHaveLength(1);
    const decided = journal.find(
      (e) => e.type === "wait_completed" && e.key === "outreach email#1",
    );
    expect(decided?.data).toMatchObject({
      status: "satisfied",
      result: { approved: true, by: "endure-demo" },
    });

    // The model calls, as the workers counted them: the two processes, and none made for a
    // step whose reply was already journaled.
    const calls = countedCalls(db);
    const pids = new Set(calls.map((c) => c.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(Number(killed?.[1]))).toBe(true);
    const journaledAt = new Map(
      journal
        .filter((e) => e.type === "step_succeeded")
        .map((e) => [`scout-1/${e.key}`, e.at.getTime()]),
    );
    expect(calls.filter((c) => c.at > (journaledAt.get(c.key) ?? Infinity))).toEqual([]);
    expect(calls.map((c) => c.key)).toEqual([
      "scout-1/extract Parcelbird#1",
      "scout-1/extract Quillstack#1", // cut off by the kill: its reply was never journaled
      "scout-1/extract Quillstack#1",
      "scout-1/extract Harbor Labs#1",
      "scout-1/summarize#1",
    ]);
  });

  it("with --reject sends nothing and journals who rejected", async () => {
    const db = join(tempDir(), "demo.db");
    const out = await demo(db, "--reject");
    expect(out).toContain(`outreach     not sent: rejected by ${userInfo().username}`);
    const engine = await sqliteEngine({ path: db, worker: false });
    const journal = await engine.journal("scout-1");
    const decided = journal.find(
      (e) => e.type === "wait_completed" && e.key === "outreach email#1",
    );
    expect(decided?.data).toMatchObject({ result: { approved: false, by: userInfo().username } });
    expect(succeeded(journal)).not.toContain("send outreach#1");
    expect((await engine.getRun("scout-1"))?.output).toMatchObject({
      sent: false,
      messageId: null,
    });
  });
});
