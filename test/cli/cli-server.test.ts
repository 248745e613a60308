// Proves the built `endure` binary through a real server: `endure server` serves the API from
// one process, `endure worker` runs an agent in a second, and `endure approvals approve` in a
// third decides its approval under an approver token; the run finishes and its journal names
// the token's owner as the decider. Also the CLI's answers through a server: runs, explain,
// a role refused (exit 1, forbidden) and --by refused where the token decides.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventually, tempDir } from "../helpers.js";
import { spawnNode } from "../support/processes.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const AGENT = new URL("../fixtures/cli-agent-workflows.mjs", import.meta.url).pathname;

const TOKENS = [
  { name: "ops-bot", token: "operator-token-for-tests", role: "operator" },
  { name: "maria@acme.io", token: "approver-token-for-tests", role: "approver" },
  { name: "viewer", token: "viewer-token-for-tests-1", role: "viewer" },
];

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_STORE: "", ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the endure command through a server", () => {
  it(
    "an approver decides an agent's approval with the CLI; the journal names the token's owner",
    { timeout: 300_000 },
    async () => {
      const dir = tempDir();
      const store = join(dir, "endure.db");
      const tokensFile = join(dir, "tokens.json");
      writeFileSync(tokensFile, JSON.stringify(TOKENS));
      const server = spawnNode(CLI, [
        "server",
        ...["--store", store, "--workflows", AGENT, "--tokens", tokensFile, "--port", "0"],
      ]);
      const banner = await server.waitFor(/^endure server on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(banner)?.[0] ?? "";
      const worker = spawnNode(CLI, ["worker", "--store", store, "--workflows", AGENT]);
      await worker.waitFor(/^worker .* started/, 60_000);
      const as = (token: string) => ({ ENDURE_URL: url, ENDURE_TOKEN: token });
      const operator = as("operator-token-for-tests");
      const approver = as("approver-token-for-tests");

      const started = cli(
        ["start", "outreach", "--input", '{"prompt":"Reach Globex"}', "--id", "o-1"],
        operator,
      );
      expect(started.status, started.stderr).toBe(0);
      expect(started.stdout.trim()).toBe("started run o-1");

      let pending: Array<{ runId: string; name: string; approvers: string[] }> = [];
      await eventually(
        async () => {
          const ls = cli(["approvals", "ls", "--json"], approver);
          pending = ls.status === 0 ? (JSON.parse(ls.stdout) as typeof pending) : [];
          return pending.some((a) => a.runId === "o-1");
        },
        60_000,
        "the agent's approval to be open",
      );
      const approval = pending.find((a) => a.runId === "o-1");
      expect(approval?.approvers).toEqual(["maria@acme.io"]);

      const viewerTry = cli(
        ["approvals", "approve", "o-1", approval?.name ?? "", "--comment", "no"],
        as("viewer-token-for-tests-1"),
      );
      expect(viewerTry.status).toBe(1);
      expect(viewerTry.stderr).toMatch(/\[forbidden\]/);
      const byTry = cli(
        ["approvals", "approve", "o-1", approval?.name ?? "", "--by", "someone"],
        approver,
      );
      expect(byTry.status).toBe(1);
      expect(byTry.stderr).toMatch(/token's name/);

      const approved = cli(
        ["approvals", "approve", "o-1", approval?.name ?? "", "--comment", "go ahead"],
        approver,
      );
      expect(approved.status, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/approved/);

      await eventually(
        () => {
          const shown = cli(["runs", "show", "o-1", "--json"], operator);
          return shown.status === 0 && /"status": "completed"/.test(shown.stdout);
        },
        60_000,
        "the run to complete",
      );
      const exported = cli(["export", "o-1"], operator);
      expect(exported.status, exported.stderr).toBe(0);
      const entries = exported.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; data: unknown });
      const decided = entries.find((e) => e.type === "wait_completed");
      expect(JSON.stringify(decided?.data)).toContain('"by":"maria@acme.io"');
      expect(JSON.stringify(decided?.data)).toContain("go ahead");
      expect(entries.at(-1)?.type).toBe("run_completed");

      const explained = cli(["runs", "explain", "o-1"], operator);
      expect(explained.status).toBe(0);
      expect(explained.stdout).toMatch(/completed/);
      const missing = cli(["runs", "show", "no-such-run"], operator);
      expect(missing.status).toBe(3);

      server.process.kill("SIGTERM");
      worker.process.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(await worker.exited).toBe(0);
    },
  );
});
