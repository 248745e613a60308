// Proves the examples run as a reader runs them, `npx tsx examples/<name>.ts`, each as a
// child process in a fresh directory, and checks what each one claims from its output: the
// revision loop's rounds and journaled comments, the enrichment's retries after 429s with
// each contact enriched once (and no call on a second run, answered from the journal), the
// triage's days of virtual time, one report per scheduled tick, and an approval decided by
// a second process whose engine executes nothing.
import { execFile } from "node:child_process";
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
});
