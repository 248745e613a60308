// Proves the Markdown samples marked runnable stay true: every ```ts runnable block of
// README.md and docs/*.md is type-checked with tsc --strict against the package's own types
// (the built dist, through its exports, as a user's project sees them), and each one not
// marked compile-only runs with tsx in a fresh directory and exits 0 within its time,
// printing what the ```text output block after it shows, when it has one.
// A block is a whole module: its imports included.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";
import { codeBlocks } from "./support/markdown.js";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
/** Inside the package, so that `endure` resolves to the package itself. */
const dir = join(root, ".tmp", "doc-blocks");
const tsx = import.meta.resolve("tsx");
/** Longest a runnable block may take. */
const RUN_TIMEOUT_MS = 60_000;

interface Sample {
  readonly name: string;
  readonly where: string;
  readonly code: string;
  readonly run: boolean;
  /** What it prints, from a ```text output block right after it. */
  readonly output?: string;
}

function samples(): Sample[] {
  const files = ["README.md", ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`)].filter(
    (f) => f.endsWith(".md"),
  );
  const found: Sample[] = [];
  for (const file of files) {
    const blocks = codeBlocks(readFileSync(join(root, file), "utf8"));
    blocks.forEach((block, i) => {
      if (block.lang !== "ts" || !block.meta.includes("runnable")) return;
      const next = blocks[i + 1];
      const output = next?.lang === "text" && next.meta.includes("output") ? next.code : undefined;
      found.push({
        name: `${file.replace(/[/.]/g, "_")}_${block.line}.ts`,
        where: `${file}:${block.line}`,
        code: block.code,
        run: !block.meta.includes("compile-only"),
        ...(output === undefined ? {} : { output }),
      });
    });
  }
  return found;
}

const all = samples();

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const s of all) writeFileSync(join(dir, s.name), s.code);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
      },
      include: ["*.ts"],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runnable Markdown samples", () => {
  it("exist, the README's first sample among them", () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const first = codeBlocks(readme).find((b) => b.lang === "ts");
    expect(first?.meta).toContain("runnable");
  });

  it("type-check with tsc --strict against the package's types", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const result = await exec(process.execPath, [tsc, "-p", dir], { timeout: 120_000 }).then(
      () => "",
      (e: Error & { stdout?: string }) => e.stdout ?? e.message,
    );
    // Name each error by the Markdown file and line of its block.
    let named = result;
    for (const s of all) named = named.split(s.name).join(`${s.where} (block)`);
    expect(named).toBe("");
  }, 180_000);

  for (const s of all.filter((x) => x.run)) {
    it(
      `runs ${s.where}`,
      async () => {
        const { stdout } = await exec(process.execPath, ["--import", tsx, join(dir, s.name)], {
          cwd: tempDir(),
          timeout: RUN_TIMEOUT_MS,
        });
        // A failing block exits with an error, which rejects; a block with an output block
        // must print exactly that.
        if (s.output !== undefined) expect(stdout).toBe(s.output);
      },
      RUN_TIMEOUT_MS + 10_000,
    );
  }
});
