// Proves that a divergence message names the user's own source positions: the `.ts` file and
// line under tsx, and the `.ts` a build came from when the build ships source maps, though
// Node runs it without --enable-source-maps. Real processes on a real SQLite file.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";

const run = promisify(execFile);
const source = fileURLToPath(new URL("../fixtures/diverging-workflow.ts", import.meta.url));
const lines = readFileSync(source, "utf8").split("\n");
const lineOf = (text: string): number => lines.findIndex((l) => l.includes(text)) + 1;
// Inside the package, so that the built module resolves `endure` as the fixture does.
const buildDir = fileURLToPath(new URL(`../../.tmp/call-sites-${process.pid}/`, import.meta.url));

afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

async function diverge(args: readonly string[]): Promise<string> {
  const db = join(tempDir(), "diverging.db");
  await run(process.execPath, [...args, "1", db]);
  const { stdout } = await run(process.execPath, [...args, "2", db]);
  return stdout;
}

describe("call sites in divergence messages", () => {
  it("name the .ts file and line under tsx", async () => {
    const said = await diverge(["--import", "tsx", source]);
    expect(said).toContain("recorded step 'fetch order#1'");
    expect(said).toContain(`call was made at ${source}:${lineOf('ctx.step("fetch order"')}:`);
    expect(said).toContain(`This call is at ${source}:${lineOf('ctx.step("look up order"')}:`);
  });

  it("name the .ts a build came from, through the source map the build ships", async () => {
    mkdirSync(buildDir, { recursive: true });
    const built = ts.transpileModule(readFileSync(source, "utf8"), {
      fileName: source,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        sourceMap: true,
        sourceRoot: "",
      },
    });
    const js = join(buildDir, "diverging-workflow.mjs");
    writeFileSync(
      js,
      built.outputText.replace(
        /sourceMappingURL=\S+/,
        "sourceMappingURL=diverging-workflow.mjs.map",
      ),
    );
    const map = JSON.parse(built.sourceMapText ?? "{}") as { sources: string[] };
    map.sources = [source];
    writeFileSync(`${js}.map`, JSON.stringify(map));
    const said = await diverge([js]);
    expect(said).toContain(`call was made at ${source}:${lineOf('ctx.step("fetch order"')}:`);
    expect(said).toContain(`This call is at ${source}:${lineOf('ctx.step("look up order"')}:`);
  });
});
