// Proves the operator commands of the built `endure` binary on a SQLite file opened directly,
// with a real worker process: start (also --wait), runs ls/show/explain/cancel/resume,
// approvals ls/approve, events send, signal, export and gc, each in human and --json output
// with their exit codes; unknown commands get a suggestion and exit 2; flags beat the
// environment, which beats the config file.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventually, tempDir } from "../helpers.js";
import { spawnNode } from "../support/processes.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const WORKFLOWS = new URL("../fixtures/cli-runs-workflows.mjs", import.meta.url).pathname;

function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "", ...env },
    ...(cwd !== undefined ? { cwd } : {}),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const json = <T>(text: string): T => JSON.parse(text) as T;

function startWorker(store: string) {
  const worker = spawnNode(CLI, ["worker", "--store", store, "--workflows", WORKFLOWS]);
  return worker;
}

describe("the endure command on a store opened directly", () => {
  it(
    "starts, lists, shows, approves and exports runs, in text and JSON",
    { timeout: 300_000 },
    async () => {
      const store = join(tempDir(), "cli.db");
      const s = ["--store", store];
      const started = cli([
        "start",
        "publish",
        "--input",
        '{"topic":"durability"}',
        "--id",
        "p-1",
        ...s,
        "--workflows",
        WORKFLOWS,
      ]);
      expect(started.status, started.stderr).toBe(0);
      expect(started.stdout.trim()).toBe("started run p-1");
      const again = cli([
        "start",
        "publish",
        "--input",
        '{"topic":"durability"}',
        "--id",
        "p-1",
        ...s,
        "--workflows",
        WORKFLOWS,
        "--json",
      ]);
      expect(json(again.stdout)).toEqual({ id: "p-1", created: false });
      const conflict = cli([
        "start",
        "publish",
        "--input",
        '{"topic":"other"}',
        "--id",
        "p-1",
        ...s,
        "--workflows",
        WORKFLOWS,
      ]);
      expect(conflict.status).toBe(1);
      expect(conflict.stderr).toContain("exists already with a different input");
      expect(conflict.stderr).toContain("[run_id_conflict]");
      const noModule = cli(["start", "publish", ...s]);
      expect(noModule.status).toBe(1);
      expect(noModule.stderr).toContain("--workflows <module>");

      const listed = cli(["runs", "ls", ...s]);
      expect(listed.status).toBe(0);
      expect(listed.stdout.split("\n")[0]).toBe("ID\tWORKFLOW\tSTATUS\tCREATED\tUPDATED");
      expect(listed.stdout).toMatch(/^p-1\tpublish\tpending\t/m);
      const page = json<{ runs: Array<{ id: string; status: string }>; next: null }>(
        cli(["runs", "ls", ...s, "--json"]).stdout,
      );
      expect(page.runs.map((r) => [r.id, r.status])).toEqual([["p-1", "pending"]]);

      const worker = startWorker(store);
      await worker.waitFor(/started/);
      await eventually(
        () => json<unknown[]>(cli(["approvals", "ls", ...s, "--json"]).stdout).length === 1,
        30_000,
        "the approval",
      );
      const approvals = cli(["approvals", "ls", ...s]);
      expect(approvals.stdout).toMatch(/^p-1\tpublish\tPublish the post\?\tanyone\t0\/1\t/m);
      const explained = cli(["runs", "explain", "p-1", ...s]);
      expect(explained.stdout).toMatch(/^waiting for approval 'publish' since /);
      const approved = cli([
        "approvals",
        "approve",
        "p-1",
        "publish",
        "--by",
        "maria@acme.io",
        "--comment",
        "ship it",
        ...s,
      ]);
      expect(approved.status, approved.stderr).toBe(0);
      expect(approved.stdout.trim()).toBe(
        "approved 'publish' of run p-1: decided, the run goes on",
      );
      const twice = cli([
        "approvals",
        "approve",
        "p-1",
        "publish",
        "--by",
        "maria@acme.io",
        ...s,
        "--json",
      ]);
      expect(twice.status).toBe(1);
      expect(json<{ error: { code: string } }>(twice.stderr).error.code).toBe("approval_decided");
      await eventually(
        () => cli(["runs", "explain", "p-1", ...s]).stdout.startsWith("completed"),
        30_000,
        "the run to complete",
      );

      const shown = cli(["runs", "show", "p-1", ...s]);
      expect(shown.stdout).toContain("p-1  publish  completed");
      expect(shown.stdout).toMatch(/^1\tstep\tdraft\tsucceeded\t\d+ms\t1\t-\t-\t-$/m);
      expect(shown.stdout).toMatch(/^2\twait\tpublish\tapproved\t\S+\t-\t-\t-\tmaria@acme\.io$/m);
      const detail = json<{
        run: { output: unknown };
        timeline: Array<{ name: string; by: string | null }>;
      }>(cli(["runs", "show", "p-1", ...s, "--json"]).stdout);
      expect(detail.run.output).toEqual({
        published: "post about durability",
        by: "maria@acme.io",
      });
      expect(detail.timeline.map((t) => [t.name, t.by])).toEqual([
        ["draft", null],
        ["publish", "maria@acme.io"],
      ]);
      const exported = cli(["export", "p-1", ...s]);
      const lines = exported.stdout
        .trim()
        .split("\n")
        .map((l) => json<{ seq: number; type: string }>(l));
      expect(lines[0]).toMatchObject({ seq: 1, type: "run_started" });
      expect(lines.at(-1)).toMatchObject({ type: "run_completed" });

      const missing = cli(["runs", "show", "nope", ...s]);
      expect(missing.status).toBe(3);
      expect(missing.stderr).toBe("endure: no run has the id 'nope' [run_not_found]\n");
      const missingJson = cli(["runs", "explain", "nope", ...s, "--json"]);
      expect(missingJson.status).toBe(3);
      expect(json(missingJson.stderr)).toMatchObject({ error: { code: "run_not_found" } });

      // --wait follows a run to its end: a failure exits 4 with the error's class.
      const failed = cli(["start", "charge", "--wait", ...s, "--workflows", WORKFLOWS]);
      expect(failed.status).toBe(4);
      expect(failed.stdout).toMatch(/✗ step charge failed/);
      expect(failed.stderr).toContain("failed: NonRetriableError: card expired");

      // Events and signals reach a waiting run; cancel ends another.
      cli(["start", "listen", "--id", "l-1", ...s, "--workflows", WORKFLOWS]);
      await eventually(
        () => cli(["runs", "explain", "l-1", ...s]).stdout.startsWith("waiting for event"),
        30_000,
        "the event wait",
      );
      const sent = cli([
        "events",
        "send",
        "email.replied",
        "--data",
        '{"text":"yes"}',
        "--id",
        "e-1",
        ...s,
        "--json",
      ]);
      expect(json(sent.stdout)).toEqual({ id: "e-1", created: true, woke: 1 });
      await eventually(
        () => cli(["runs", "explain", "l-1", ...s]).stdout.startsWith("waiting for signal"),
        30_000,
        "the signal wait",
      );
      expect(cli(["signal", "l-1", "go", "--data", "42", ...s]).stdout.trim()).toBe(
        "sent signal 'go' to run l-1",
      );
      await eventually(
        () => cli(["runs", "explain", "l-1", ...s]).stdout.startsWith("completed"),
        30_000,
        "the listener",
      );
      expect(cli(["signal", "nope", "go", ...s]).status).toBe(3);
      cli(["start", "listen", "--id", "l-2", ...s, "--workflows", WORKFLOWS]);
      const cancelled = cli(["runs", "cancel", "l-2", "--reason", "not needed", ...s]);
      expect(cancelled.status, cancelled.stderr).toBe(0);
      expect(cancelled.stdout).toMatch(/^cancelled run l-2: /);
      const resumed = cli(["runs", "resume", "l-1", ...s]);
      expect(resumed.status).toBe(1);
      expect(resumed.stderr).toContain("not paused");
      const gc = cli(["gc", ...s, "--json"]);
      expect(gc.status, gc.stderr).toBe(0);
      expect(json(gc.stdout)).toMatchObject({ runs: 0, events: 0 });
      worker.process.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    },
  );

  it("refuses unknown commands with a suggestion and exit code 2", { timeout: 120_000 }, () => {
    const top = cli(["runz"]);
    expect(top.status).toBe(2);
    expect(top.stderr).toContain("unknown command 'runz'");
    expect(top.stderr).toContain("(Did you mean runs?)");
    const sub = cli(["approvals", "aprove", "x", "y"]);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain("(Did you mean approve?)");
    expect(cli(["runs"]).status).toBe(2);
    const option = cli(["runs", "ls", "--stat", "failed"]);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("(Did you mean --status?)");
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    expect(cli(["runs", "ls"]).stderr).toContain("no server or store given");
  });

  it(
    "takes flags over the environment, and the environment over the config file",
    { timeout: 120_000 },
    () => {
      const dir = tempDir();
      const [a, b, c] = ["a.db", "b.db", "c.db"].map((f) => join(dir, f));
      for (const [path, id] of [
        [a, "from-flag"],
        [b, "from-env"],
        [c, "from-config"],
      ] as const)
        cli(["start", "charge", "--id", id, "--store", path as string, "--workflows", WORKFLOWS]);
      writeFileSync(join(dir, "endure.config.json"), JSON.stringify({ store: c }));
      const ids = (r: { stdout: string }) =>
        json<{ runs: Array<{ id: string }> }>(r.stdout).runs.map((x) => x.id);
      expect(ids(cli(["runs", "ls", "--json"], {}, dir))).toEqual(["from-config"]);
      expect(ids(cli(["runs", "ls", "--json"], { ENDURE_STORE: b as string }, dir))).toEqual([
        "from-env",
      ]);
      expect(
        ids(
          cli(["runs", "ls", "--json", "--store", a as string], { ENDURE_STORE: b as string }, dir),
        ),
      ).toEqual(["from-flag"]);
      writeFileSync(join(dir, "bad.json"), JSON.stringify({ stor: c }));
      const bad = cli(["runs", "ls", "--config", join(dir, "bad.json")], {}, dir);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain("unknown field 'stor'");
    },
  );
});
