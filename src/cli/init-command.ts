// `endure init [directory]`: writes a starter project (a workflow, a script that runs it, a
// test on virtual time with endure/testing) and the package.json scripts that run them. It
// refuses to overwrite a file, and checks everything before it writes anything, so a refusal
// leaves the directory as it was.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { Command } from "commander";
import { InvalidArgumentError } from "../core/errors.js";
import {
  NPM_PLACEHOLDER_TEST,
  OPTIONAL_FILES,
  STARTER_DEV_PACKAGES,
  STARTER_FILES,
  STARTER_SCRIPTS,
} from "./init-files.js";
import type { Output } from "./output.js";

/** What endure's own package.json tells init: its version and the tools it is built with. */
export interface EndurePackage {
  readonly version: string;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/** What {@link initProject} did, for the lines init prints. */
export interface InitReport {
  readonly directory: string;
  readonly written: readonly string[];
  readonly kept: readonly string[];
  readonly packageJson: "created" | "updated" | "unchanged";
  /** Scripts and packages added to package.json (packages need an `npm install`). */
  readonly scripts: readonly string[];
  readonly packages: readonly string[];
}

type PackageJson = Record<string, unknown> & {
  type?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

function readPackageJson(path: string): PackageJson | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InvalidArgumentError(
      `${path} is not valid JSON (${(e as Error).message}); fix it, or run ` +
        "endure init in a new directory. Nothing was written",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`${path} is not a JSON object. Nothing was written`);
  return parsed as PackageJson;
}

/** Why the starter cannot go into this package.json (none when it can). */
function packageJsonConflicts(pkg: PackageJson): string[] {
  const problems: string[] = [];
  if (pkg.type !== undefined && pkg.type !== "module")
    problems.push(
      `its "type" is ${JSON.stringify(pkg.type)}: the starter is ES modules (set "type": "module")`,
    );
  for (const [name, command] of Object.entries(STARTER_SCRIPTS)) {
    const existing = pkg.scripts?.[name];
    if (existing === undefined || existing === command) continue;
    if (name === "test" && existing === NPM_PLACEHOLDER_TEST) continue;
    problems.push(
      `its "${name}" script is ${JSON.stringify(existing)}, the starter's would be ` +
        `${JSON.stringify(command)} (rename yours)`,
    );
  }
  return problems;
}

/** Adds the starter's type, scripts and packages to `pkg`; returns what it added. */
function extendPackageJson(pkg: PackageJson, endure: EndurePackage) {
  pkg.type ??= "module";
  const scripts: string[] = [];
  const packages: string[] = [];
  pkg.scripts ??= {};
  for (const [name, command] of Object.entries(STARTER_SCRIPTS)) {
    if (pkg.scripts[name] === command) continue;
    pkg.scripts[name] = command;
    scripts.push(name);
  }
  const has = (name: string) =>
    pkg.dependencies?.[name] !== undefined || pkg.devDependencies?.[name] !== undefined;
  if (!has("endure")) {
    pkg.dependencies = { ...pkg.dependencies, endure: `^${endure.version}` };
    packages.push("endure");
  }
  for (const name of STARTER_DEV_PACKAGES) {
    if (has(name)) continue;
    pkg.devDependencies = { ...pkg.devDependencies, [name]: endure.devDependencies?.[name] ?? "*" };
    packages.push(name);
  }
  return { scripts, packages };
}

/**
 * Writes the starter project into `directory` (created when missing). Throws
 * InvalidArgumentError, having written nothing, when a starter file exists or the
 * package.json there cannot take the starter's scripts.
 */
export function initProject(directory: string, endure: EndurePackage): InitReport {
  const dir = resolve(directory);
  const existing = Object.keys(STARTER_FILES).filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0)
    throw new InvalidArgumentError(
      `refusing to overwrite ${existing.join(", ")} in ${dir}: move ` +
        `${existing.length === 1 ? "it" : "them"} away or run endure init in another ` +
        "directory. Nothing was written",
    );
  const pkgPath = join(dir, "package.json");
  const found = readPackageJson(pkgPath);
  const problems = found === null ? [] : packageJsonConflicts(found);
  if (problems.length > 0)
    throw new InvalidArgumentError(
      `${pkgPath} cannot take the starter: ${problems.join("; ")}. Nothing was written`,
    );
  const pkg: PackageJson = found ?? {
    name: basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-._~]/g, "-"),
    version: "0.1.0",
    private: true,
  };
  const written: string[] = [];
  const kept: string[] = [];
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text, { flag: "wx" });
    written.push(file);
  };
  for (const [file, text] of Object.entries(STARTER_FILES)) write(file, text);
  for (const [file, text] of Object.entries(OPTIONAL_FILES))
    if (existsSync(join(dir, file))) kept.push(file);
    else write(file, text);
  const added = extendPackageJson(pkg, endure);
  const changed = found === null || added.scripts.length + added.packages.length > 0 || !found.type;
  if (changed) writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  return {
    directory: dir,
    written,
    kept,
    packageJson: found === null ? "created" : changed ? "updated" : "unchanged",
    ...added,
  };
}

/** The lines init prints for a report: what it did, then what to run next. */
export function initSummary(report: InitReport, cwd = process.cwd()): string[] {
  const lines = [`wrote ${report.written.join(", ")}`];
  for (const file of report.kept) lines.push(`kept your ${file}`);
  const added = [
    report.scripts.length > 0 ? `scripts ${report.scripts.join(", ")}` : "",
    report.packages.length > 0 ? `packages ${report.packages.join(", ")}` : "",
  ].filter((s) => s !== "");
  lines.push(
    `package.json: ${report.packageJson}${added.length > 0 ? ` (${added.join("; ")})` : ""}`,
    "",
    "next:",
  );
  const where = relative(cwd, report.directory);
  if (where !== "") lines.push(`  cd ${where}`);
  if (report.packages.length > 0) lines.push("  npm install");
  lines.push(
    "  npm test        the workflow's tests, on virtual time",
    "  npm start       runs it on an embedded SQLite file (.endure/app.db)",
    "  npm run dev     serves it with the dashboard on http://127.0.0.1:4100",
  );
  return lines;
}

/** `init`. */
export function initCommand(out: Output): Command {
  return new Command("init")
    .description(
      "write a starter project: a workflow, a test with endure/testing, and the package.json " +
        "scripts that run them (never overwrites a file)",
    )
    .argument("[directory]", "where to write it (created when missing)", ".")
    .action((directory: string) => {
      const endure = createRequire(import.meta.url)("../../package.json") as EndurePackage;
      for (const line of initSummary(initProject(directory, endure))) out.log(line);
    });
}
