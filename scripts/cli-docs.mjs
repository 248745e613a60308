// Writes docs/cli.md from the built `endure` binary's own --help output, so the reference
// cannot drift from the commands: `npm run docs:cli` (a test fails when the file is stale).
//
//   node scripts/cli-docs.mjs          write docs/cli.md
//   node scripts/cli-docs.mjs --check  exit 1 when docs/cli.md differs from what it would write
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const CLI = new URL("../dist/cli/main.js", import.meta.url).pathname;
const OUT = new URL("../docs/cli.md", import.meta.url).pathname;
/** Deepest command path documented (endure runs ls is depth 2). */
const DEPTH_MAX = 3;

function help(path) {
  const r = spawnSync(process.execPath, [CLI, ...path, "--help"], {
    encoding: "utf8",
    // A fixed width, so the wrapping does not follow the terminal of whoever runs it.
    env: { ...process.env, COLUMNS: "100", NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`endure ${path.join(" ")} --help failed: ${r.stderr}`);
  return r.stdout.trimEnd();
}

/** The subcommand names listed under "Commands:" in a help text. */
function subcommands(text) {
  const start = text.indexOf("\nCommands:\n");
  if (start < 0) return [];
  const names = [];
  for (const line of text.slice(start + 11).split("\n")) {
    if (line.trim() === "") break;
    const m = /^ {2}([a-z][\w-]*)/.exec(line);
    if (m !== null && m[1] !== "help") names.push(m[1]);
  }
  return names;
}

function render() {
  const sections = [];
  const visit = (path) => {
    const text = help(path);
    sections.push(`## endure ${path.join(" ")}`.trimEnd(), "", "```text", text, "```", "");
    if (path.length < DEPTH_MAX) for (const name of subcommands(text)) visit([...path, name]);
  };
  visit([]);
  return [
    "# The endure command",
    "",
    "Generated from the commands' own `--help` by `npm run docs:cli`; a test fails when it is",
    "stale. Every command takes `--json` for scripts where it prints data; exit codes are at",
    "the end of the first section.",
    "",
    ...sections,
  ].join("\n");
}

const text = render();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(OUT, "utf8");
  } catch {
    // A missing file is stale too.
  }
  if (current !== text) {
    process.stderr.write("docs/cli.md is stale: run npm run docs:cli\n");
    process.exit(1);
  }
} else writeFileSync(OUT, text);
