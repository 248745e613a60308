// Proves the built `endure` binary's memory and query commands on a SQLite file opened
// directly: memory set/get/ls/history in text and JSON (the writer is the OS user), an empty
// key, and a query answered by replaying a run's journal with its workflows module.
import { spawnSync } from "node:child_process";
import { userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const WORKFLOWS = new URL("../fixtures/cli-memory-workflows.mjs", import.meta.url).pathname;

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the endure memory and query commands", () => {
  it("sets, gets, lists and shows the history of memory keys, and asks a run a query", () => {
    const s = ["--store", join(tempDir(), "cli.db")];
    expect(cli(["memory", "set", "customer", "42", '{"tier":"gold"}', ...s]).stdout).toBe(
      "set customer/42: version 1\n",
    );
    expect(cli(["memory", "set", "customer", "42", '{"tier":"platinum"}', ...s]).status).toBe(0);
    const got = cli(["memory", "get", "customer", "42", ...s]);
    expect(got.stdout.split("\n")[0]).toBe('{"tier":"platinum"}');
    expect(got.stdout).toContain(`version 2, written `);
    expect(got.stdout).toContain(`by ${userInfo().username}`);
    const json = JSON.parse(cli(["memory", "get", "customer", "42", "--json", ...s]).stdout) as {
      version: number;
    };
    expect(json.version).toBe(2);
    expect(cli(["memory", "get", "customer", "7", ...s]).stdout).toBe(
      "memory 'customer' has no key '7'\n",
    );
    expect(cli(["memory", "ls", ...s]).stdout).toMatch(/^customer {2}1 key {2}\d{4}-/);
    expect(cli(["memory", "ls", "customer", ...s]).stdout).toBe('42  v2  {"tier":"platinum"}\n');
    const history = cli(["memory", "history", "customer", "42", ...s])
      .stdout.trim()
      .split("\n");
    expect(history).toHaveLength(2);
    expect(history[0]).toMatch(/^v2 {2}\S+ {2}\S+ {2}\{"tier":"platinum"\}$/);
    const bad = cli(["memory", "set", "a/b", "k", "1", ...s]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("must not contain '/'");

    const started = cli([
      "start",
      "order",
      "--input",
      '{"address":"ana@example.com"}',
      "--id",
      "o-1",
      ...s,
      "--workflows",
      WORKFLOWS,
    ]);
    expect(started.status).toBe(0);
    // No worker has run it: the query replays its journal with the workflows module.
    expect(cli(["query", "o-1", "address", ...s, "--workflows", WORKFLOWS]).stdout).toBe(
      '"ana@example.com"\n',
    );
    const unknown = cli(["query", "o-1", "nothing", ...s, "--workflows", WORKFLOWS]);
    expect(unknown.stderr).toContain("[query_not_found]");
  });
});
