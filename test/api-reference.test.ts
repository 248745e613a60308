// Proves the API reference builds from the TSDoc of every entry point with TypeDoc (as
// `npm run docs:api` does, with typedoc.json): no warning (a broken {@link}, a bad tag fails
// it), one page per entry point, and the main functions documented with their examples.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const ENTRY_POINTS = Object.keys(
  (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: object }).exports,
)
  .filter((p) => p !== "./package.json")
  .map((p) => (p === "." ? "endure" : `endure/${p.slice(2)}`));

describe("the API reference", () => {
  it("builds with TypeDoc without a warning, a page for each entry point", async () => {
    const out = tempDir();
    const typedoc = join(root, "node_modules/typedoc/bin/typedoc");
    // typedoc.json treats warnings as errors: a warning fails the command.
    await exec(process.execPath, [typedoc, "--out", out], { cwd: root, timeout: 240_000 });
    const index = readFileSync(join(out, "README.md"), "utf8");
    for (const entry of ENTRY_POINTS) {
      expect(index).toContain(`[${entry}](${entry}/README.md)`);
      expect(existsSync(join(out, entry, "README.md"))).toBe(true);
    }
    const createEngine = readFileSync(join(out, "endure/functions/createEngine.md"), "utf8");
    expect(createEngine).toContain("## Example");
    const step = readFileSync(join(out, "endure/interfaces/WorkflowContext.md"), "utf8");
    expect(step).toContain("### step()");
  }, 300_000);
});
