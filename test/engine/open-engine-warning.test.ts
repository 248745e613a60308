// Proves that a process about to exit with an engine still open is warned, in a real child
// process on a real SQLite file: the warning names the store and says to call close(); a
// process that closed its engine exits without it.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const dist = new URL("../../dist/", import.meta.url).href;

function runScript(path: string, close: boolean) {
  const script = `
    import { createEngine } from "${dist}index.js";
    import { sqliteStore } from "${dist}store/sqlite/index.js";
    const engine = await createEngine({ store: sqliteStore(${JSON.stringify(path)}), worker: false });
    await engine.listRuns();
    ${close ? "await engine.close();" : ""}
  `;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("an engine left open", () => {
  it("is named in a warning when the process is about to exit", () => {
    const path = join(tempDir(), "open.db");
    const left = runScript(path, false);
    expect(left.status, left.stderr).toBe(0);
    expect(left.stderr).toContain(`engine on sqlite:${path} still open`);
    expect(left.stderr).toContain("await engine.close()");
    const closed = runScript(path, true);
    expect(closed.status, closed.stderr).toBe(0);
    expect(closed.stderr).not.toContain("still open");
  });
});
