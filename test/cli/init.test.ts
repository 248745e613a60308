// Proves endure init's rules on real directories: it writes the starter into an empty
// directory with a package.json of its own; into an existing project it adds its scripts and
// packages and keeps the rest, replacing only npm's placeholder test; and it refuses, with a
// message naming every problem and having written nothing, when a starter file exists, a
// script name is taken, the package is CommonJS or package.json is not JSON. The pack test
// runs the starter itself in an installed project.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isEndureError } from "endure";
import { initProject, initSummary } from "../../src/cli/init-command.js";
import { STARTER_FILES, STARTER_SCRIPTS } from "../../src/cli/init-files.js";
import { tempDir } from "../helpers.js";

const endure = { version: "1.2.3", devDependencies: { tsx: "^4.0.0", typescript: "~6.0.0" } };
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

/** The error initProject throws, checked to be endure's invalid_argument. */
function refusal(dir: string): string {
  try {
    initProject(dir, endure);
  } catch (e) {
    expect(isEndureError(e) && e.code).toBe("invalid_argument");
    return (e as Error).message;
  }
  throw new Error("init did not refuse");
}

describe("endure init", () => {
  it("writes the starter and a package.json into a new directory", () => {
    const dir = join(tempDir(), "My App");
    const report = initProject(dir, endure);
    expect(report.written).toEqual([...Object.keys(STARTER_FILES), "tsconfig.json", ".gitignore"]);
    for (const [file, text] of Object.entries(STARTER_FILES))
      expect(readFileSync(join(dir, file), "utf8")).toBe(text);
    expect(readJson(join(dir, "package.json"))).toEqual({
      name: "my-app",
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: STARTER_SCRIPTS,
      dependencies: { endure: "^1.2.3" },
      devDependencies: { tsx: "^4.0.0", typescript: "~6.0.0", "@types/node": "*" },
    });
    const lines = initSummary(report, join(dir, ".."));
    expect(lines).toContain(
      "package.json: created (scripts start, test, typecheck, dev; packages endure, tsx, typescript, @types/node)",
    );
    expect(lines).toContain("  cd My App");
    expect(lines).toContain("  npm install");
  });

  it("adds to an existing project and keeps what it has", () => {
    const dir = tempDir();
    const mine = {
      name: "shop",
      description: "kept",
      scripts: { test: 'echo "Error: no test specified" && exit 1', lint: "eslint ." },
      dependencies: { endure: "^0.1.0", zod: "^4.0.0" },
      devDependencies: { typescript: "^5.9.0", tsx: "^4.1.0", "@types/node": "^22.0.0" },
    };
    writeFileSync(join(dir, "package.json"), JSON.stringify(mine));
    writeFileSync(join(dir, ".gitignore"), "dist/\n");
    const report = initProject(dir, endure);
    expect(report.kept).toEqual([".gitignore"]);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe("dist/\n");
    expect(report.packages).toEqual([]);
    expect(readJson(join(dir, "package.json"))).toEqual({
      ...mine,
      type: "module",
      scripts: { ...STARTER_SCRIPTS, lint: "eslint ." },
    });
    const lines = initSummary(report, dir);
    expect(lines).toContain("kept your .gitignore");
    expect(lines).not.toContain("  npm install");
  });

  it("refuses to overwrite a starter file, and writes nothing", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "test"));
    writeFileSync(join(dir, "test/workflows.test.ts"), "// mine\n");
    expect(refusal(dir)).toBe(
      `refusing to overwrite test/workflows.test.ts in ${dir}: move it away or run endure init in another directory. Nothing was written`,
    );
    expect(readdirSync(dir)).toEqual(["test"]);
    expect(readFileSync(join(dir, "test/workflows.test.ts"), "utf8")).toBe("// mine\n");
  });

  it("refuses a package.json whose scripts or module type the starter would change", () => {
    const dir = tempDir();
    const pkg = { type: "commonjs", scripts: { test: "vitest run", start: "node server.js" } };
    writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
    const message = refusal(dir);
    expect(message).toContain('its "type" is "commonjs": the starter is ES modules');
    expect(message).toContain('its "start" script is "node server.js"');
    expect(message).toContain('its "test" script is "vitest run"');
    expect(message).toContain("Nothing was written");
    expect(readdirSync(dir)).toEqual(["package.json"]);
    expect(readJson(join(dir, "package.json"))).toEqual(pkg);
  });

  it("refuses a package.json that is not JSON", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "package.json"), "{ name: shop }");
    expect(refusal(dir)).toMatch(/package\.json is not valid JSON \(.+\); fix it/);
    expect(existsSync(join(dir, "src"))).toBe(false);
  });
});
