// Proves an approval survives processes: one process starts a run that waits for approval and
// exits (cleanly, or killed with SIGKILL), a second process approves it, a third resumes the
// run to completion, and the journal shows who approved and when.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const run = promisify(execFile);
const CHILD = new URL("../fixtures/approval-child.mjs", import.meta.url).pathname;

async function child(...args: string[]): Promise<string[]> {
  try {
    const { stdout } = await run(process.execPath, [CHILD, ...args], { timeout: 30_000 });
    return stdout.trim().split("\n");
  } catch (e) {
    const failed = e as { signal?: string; stdout?: string };
    if (failed.signal === "SIGKILL") return (failed.stdout ?? "").trim().split("\n");
    throw e;
  }
}

describe("approvals across processes", () => {
  for (const how of ["exit", "crash"]) {
    it(`resumes in a third process after the first ${how === "crash" ? "was killed" : "exited"} and a second approved`, async () => {
      const db = join(tempDir(), "deal.db");
      const first = await child("start", db, how);
      expect(first).toContain("waiting");
      expect(first.includes("exit")).toBe(how === "exit");
      const second = await child("approve", db);
      expect(second).toContain("pending deal-1 sign-off Approve a 48000 deal with Northwind?");
      expect(second).toContain("decision settled");
      const before = Date.now();
      const third = await child("resume", db);
      const result = JSON.parse(
        third.find((l) => l.startsWith("result "))?.slice(7) ?? "null",
      ) as Record<string, string>;
      expect(result).toEqual({
        status: "signed",
        by: "maria@acme.io",
        comment: "good margin",
        contract: "contract deal-1/send contract#1",
      });
      const journal = JSON.parse(
        third.find((l) => l.startsWith("journal "))?.slice(8) ?? "[]",
      ) as Array<{
        type: string;
        key: string | null;
        at: string;
        data: { result?: { by: string; at: string; decisions: unknown[] } };
      }>;
      const decided = journal.find((e) => e.type === "wait_completed" && e.key === "sign-off#1");
      expect(decided?.data.result?.by).toBe("maria@acme.io");
      expect(new Date(decided?.data.result?.at ?? 0).getTime()).toBeLessThanOrEqual(before);
      expect(decided?.data.result?.decisions).toHaveLength(1);
      expect(journal.filter((e) => e.type === "step_succeeded").map((e) => e.key)).toEqual([
        "quote#1",
        "send contract#1",
      ]);
      if (how === "crash") expect(journal.some((e) => e.type === "run_recovered")).toBe(true);
    });
  }
});
