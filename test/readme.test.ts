// The README's first code block is examples/quickstart.ts, character for character, and it
// runs as written in a fresh directory: twice, returning the same result, with the ledger row
// it posts in a transactional step written once.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";
import { firstTypeScriptBlock } from "./support/markdown.js";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const QUICKSTART = join(root, "examples/quickstart.ts");

describe("the README's first sample", () => {
  it("is examples/quickstart.ts", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(firstTypeScriptBlock(readme)).toBe(readFileSync(QUICKSTART, "utf8"));
  });

  it("runs as written, and a second run returns the journaled result", async () => {
    const dir = tempDir();
    const tsx = import.meta.resolve("tsx");
    const run = () =>
      exec(process.execPath, ["--import", tsx, QUICKSTART], { cwd: dir, timeout: 30_000 });
    expect((await run()).stdout).toBe("welcome sent to ada@example.com\n");
    expect((await run()).stdout).toBe("welcome sent to ada@example.com\n");
    const db = new Database(join(dir, "endure.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT account, amount FROM ledger").all()).toEqual([
        { account: "acct-onboard-ada", amount: 100 },
      ]);
    } finally {
      db.close();
    }
  });
});
