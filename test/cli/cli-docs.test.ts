// Proves docs/cli.md is current: it is exactly what scripts/cli-docs.mjs writes from the
// built binary's --help of every command, so a changed option or command fails here.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const SCRIPT = new URL("../../scripts/cli-docs.mjs", import.meta.url).pathname;

describe("docs/cli.md", () => {
  // About forty processes, one per command's --help: minutes on a machine under load.
  it("matches the commands' own help", { timeout: 240_000 }, () => {
    const r = spawnSync(process.execPath, [SCRIPT, "--check"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
