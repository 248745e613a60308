// Proves endure installs as users get it: `npm pack` of the built package, installed into a
// fresh project outside this repository, loads every entry point a user imports, type-checks
// the README's first sample with `tsc --strict` and runs it; `endure init` there writes a
// starter whose own scripts (type-check, test on virtual time, start) pass, and a second init
// refuses to overwrite it.
//
// The install comes from npm's cache (--prefer-offline), with the versions of tsx,
// typescript and @types/node this repository uses. Install scripts are skipped: the only one
// that matters, better-sqlite3's native build, compiles for a minute or more on Node 20; the
// binary built for this repository's node_modules is copied in instead (the same version,
// pinned with overrides).
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstTypeScriptBlock } from "./support/markdown.js";

const execFileAsync = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
/** Time any one command may take; an install from the cache takes seconds. */
const COMMAND_MS = 180_000;
/** Time one case may take: a few commands, on a busy machine. */
const CASE_MS = 2 * COMMAND_MS;

const versionOf = (name: string): string =>
  (
    JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

let scratch = "";
let app = "";

/** Runs a command in the scratch project; resolves with its output, whatever its exit code. */
async function sh(file: string, args: string[], cwd = app) {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      cwd,
      timeout: COMMAND_MS,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof failed.code === "number" ? failed.code : -1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? failed.message,
    };
  }
}
const bin = (name: string) => join(app, "node_modules", ".bin", name);

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "endure-pack-"));
  app = join(scratch, "app");
  mkdirSync(app);
}, COMMAND_MS);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the packed package", () => {
  let tarball = "";

  it(
    "packs the build, the README and package.json, and no sources or tests",
    async () => {
      // The build is npm test's first step; --ignore-scripts skips prepare's second one.
      const packed = await sh(
        "npm",
        ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch],
        root,
      );
      expect(packed.code, packed.stderr).toBe(0);
      const [info] = JSON.parse(packed.stdout) as Array<{
        filename: string;
        files: { path: string }[];
      }>;
      tarball = join(scratch, info?.filename ?? "");
      const files = (info?.files ?? []).map((f) => f.path);
      expect(files).toEqual(
        expect.arrayContaining([
          "package.json",
          "README.md",
          "dist/index.js",
          "dist/cli/main.js",
          "dist/index.d.ts",
        ]),
      );
      expect(
        files.filter((f) => !f.startsWith("dist/") && f !== "package.json" && f !== "README.md"),
      ).toEqual([]);
      expect(files.filter((f) => f.endsWith(".test.js"))).toEqual([]);
    },
    CASE_MS,
  );

  it(
    "installs into a fresh project with its dependencies",
    async () => {
      const sqlite = versionOf("better-sqlite3");
      writeFileSync(
        join(app, "package.json"),
        JSON.stringify(
          {
            name: "scratch-app",
            private: true,
            type: "module",
            overrides: { "better-sqlite3": sqlite },
          },
          null,
          2,
        ),
      );
      const installed = await sh("npm", [
        "install",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        tarball,
        `tsx@${versionOf("tsx")}`,
        `typescript@${versionOf("typescript")}`,
        `@types/node@${versionOf("@types/node")}`,
      ]);
      expect(installed.code, installed.stderr).toBe(0);
      const pkg = (name: string) => join(app, "node_modules", name, "package.json");
      expect(JSON.parse(readFileSync(pkg("better-sqlite3"), "utf8"))).toMatchObject({
        version: sqlite,
      });
      const binary = "build/Release/better_sqlite3.node";
      mkdirSync(join(app, "node_modules/better-sqlite3/build/Release"), { recursive: true });
      copyFileSync(
        join(root, "node_modules/better-sqlite3", binary),
        join(app, "node_modules/better-sqlite3", binary),
      );
      // The repository's own node_modules is nowhere above the scratch project.
      const where = await sh(process.execPath, [
        "-e",
        "console.log(require.resolve('endure/package.json'))",
      ]);
      expect(where.stdout.trim()).toBe(pkg("endure"));
    },
    CASE_MS,
  );

  it(
    "loads every entry point whose dependencies come with it",
    async () => {
      // endure/ai-sdk and endure/mcp need their optional peers (ai, @modelcontextprotocol/sdk).
      const entries = [
        "endure",
        "endure/sqlite",
        "endure/postgres",
        "endure/testing",
        "endure/ai",
        "endure/server",
        "endure/client",
      ];
      const script = `for (const e of ${JSON.stringify(entries)}) console.log(e, Object.keys(await import(e)).length);`;
      const loaded = await sh(process.execPath, ["--input-type=module", "-e", script]);
      expect(loaded.code, loaded.stderr).toBe(0);
      for (const entry of entries)
        expect(loaded.stdout).toMatch(new RegExp(`^${entry} [1-9]`, "m"));
    },
    CASE_MS,
  );

  it(
    "type-checks the README's first sample with tsc --strict and runs it",
    async () => {
      // Before init writes a tsconfig.json: tsc refuses files on its command line beside one.
      const sample = firstTypeScriptBlock(readFileSync(join(root, "README.md"), "utf8"));
      writeFileSync(join(app, "onboard.ts"), sample);
      const checked = await sh(bin("tsc"), [
        "--strict",
        "--noEmit",
        "--module",
        "nodenext",
        "--target",
        "es2022",
        "--types",
        "node",
        "onboard.ts",
      ]);
      expect(checked.code, checked.stdout + checked.stderr).toBe(0);
      const first = await sh(bin("tsx"), ["onboard.ts"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe("welcome sent to ada@example.com\n");
      const again = await sh(bin("tsx"), ["onboard.ts"]);
      expect(again.stdout).toBe("welcome sent to ada@example.com\n");
    },
    CASE_MS,
  );

  it(
    "endure init writes a starter whose scripts type-check, test and run it",
    async () => {
      const init = await sh(bin("endure"), ["init"]);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toContain(
        "wrote src/workflows.ts, src/main.ts, test/workflows.test.ts, tsconfig.json, .gitignore",
      );
      // The install above added endure, tsx, typescript and @types/node: nothing to install.
      expect(init.stdout).toContain("package.json: updated (scripts start, test, typecheck, dev)");
      expect(init.stdout).not.toContain("npm install");
      const typecheck = await sh("npm", ["run", "typecheck"]);
      expect(typecheck.code, typecheck.stdout + typecheck.stderr).toBe(0);
      const test = await sh("npm", ["test"]);
      expect(test.code, test.stdout + test.stderr).toBe(0);
      expect(test.stdout).toMatch(/^# pass 3$/m);
      expect(test.stdout).toMatch(/^# fail 0$/m);
      const start = await sh("npm", ["start", "--silent"]);
      expect(start.code, start.stderr).toBe(0);
      expect(start.stdout).toContain("started run welcome-ada");
      expect(start.stdout).toContain("waiting: Offer ada@example.com an onboarding call?");
      expect(start.stdout).toContain("{ account: 'acct-welcome-ada', call: true }");
      const again = await sh("npm", ["start", "--silent"]);
      expect(again.stdout).toContain("run welcome-ada exists: reading it");
      expect(again.stdout).not.toContain("waiting:");
    },
    CASE_MS,
  );

  it(
    "endure init refuses to overwrite the starter, and writes nothing",
    async () => {
      const before = readFileSync(join(app, "src/workflows.ts"), "utf8");
      writeFileSync(join(app, "src/workflows.ts"), `${before}// mine\n`);
      const init = await sh(bin("endure"), ["init"]);
      expect(init.code).toBe(1);
      expect(init.stderr).toContain(
        "refusing to overwrite src/workflows.ts, src/main.ts, test/workflows.test.ts",
      );
      expect(init.stderr).toContain("Nothing was written");
      expect(readFileSync(join(app, "src/workflows.ts"), "utf8")).toBe(`${before}// mine\n`);
    },
    CASE_MS,
  );
});
