// `endure replay` (new code against a journal file) and `endure check` (new code against every
// run in flight in a store: the deploy gate). Both replay without executing anything.
import { existsSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { InvalidArgumentError, isEndureError, StoreUnavailableError } from "../core/errors.js";
import { LIST_RUNS_LIMIT_MAX } from "../core/limits.js";
import { GC_WORKFLOW } from "../engine/retention.js";
import { listVersions, registerWorkflows, type Registry } from "../engine/registry.js";
import type { RunRecord, Store } from "../store/store.js";
import { parseJournalFile, replayJournal, type JournalFile } from "../testing/replay.js";
import { printerFor } from "./command-kit.js";
import { EXIT_STORE_UNREACHABLE, EXIT_WOULD_BREAK } from "./exit-codes.js";
import { loadWorkflows } from "./load-workflows.js";
import type { Output, Printer } from "./output.js";
import { codecFromKeys, KEYS_OPTION_HELP, openedStore } from "./keys.js";
import { storeFromUrl } from "./store-url.js";

/** Runs replayed at once by `endure check`. */
export const CHECK_CONCURRENCY = 8;

/** What a replay check found for one run. */
export type Verdict = {
  readonly run: string;
  readonly workflow: string;
  readonly version: string | null;
} & (
  | { readonly kind: "compatible"; readonly detail: string }
  | {
      readonly kind: "diverges";
      readonly detail: string;
      readonly position: number;
      readonly recorded: string;
      readonly asked: string;
      readonly recordedSite: string | null;
      readonly askedSite: string | null;
    }
  | { readonly kind: "orphaned"; readonly detail: string }
  /** A journaled payload cannot be brought up to the shape the code declares. */
  | { readonly kind: "upcast_failed"; readonly detail: string }
);

/** Replays one journal against the version of its workflow the registry holds. */
export async function checkJournal(registry: Registry, file: JournalFile): Promise<Verdict> {
  const started = file.entries.find((e) => e.type === "run_started");
  const workflow = file.run?.workflow ?? nameIn(started?.data ?? null);
  if (workflow === null)
    throw new InvalidArgumentError("the journal names no workflow (no run line, no run_started)");
  const version = file.run?.version ?? versionIn(started?.data ?? null);
  const run = file.run?.id ?? started?.runId ?? "replayed-run";
  const base = { run, workflow, version };
  const byVersion = registry.versions.get(workflow);
  const wf = byVersion?.get(version);
  if (byVersion === undefined || wf === undefined) {
    const pinned = version === null ? "no version" : `version '${version}'`;
    return {
      ...base,
      kind: "orphaned",
      detail:
        byVersion === undefined
          ? `workflow '${workflow}' is not in the module`
          : `pinned to ${pinned}; the module registers versions ${listVersions(byVersion)}`,
    };
  }
  const report = await replayJournal(wf, file);
  const d = report.divergence;
  if (d !== null) {
    return {
      ...base,
      kind: "diverges",
      detail: `at position ${d.position}: recorded ${d.recorded}, asked ${d.asked}`,
      position: d.position,
      recorded: d.recorded,
      asked: d.asked,
      recordedSite: d.recordedSite,
      askedSite: d.askedSite,
    };
  }
  const end = report.end;
  if (end.kind === "upcast_failed")
    return { ...base, kind: "upcast_failed", detail: end.error.message };
  const detail =
    end.kind === "waiting"
      ? end.next === null
        ? "replays to the end of its journal"
        : `replays to the end of its journal; next: ${end.next.kind} '${end.next.key}'`
      : `replays to its end (${end.kind})`;
  return { ...base, kind: "compatible", detail };
}

function nameIn(data: string | null): string | null {
  const value = data === null ? null : (JSON.parse(data) as { workflow?: unknown });
  return typeof value?.workflow === "string" ? value.workflow : null;
}

function versionIn(data: string | null): string | null {
  const value = data === null ? null : (JSON.parse(data) as { version?: unknown });
  return typeof value?.version === "string" ? value.version : null;
}

async function registryOf(module: string): Promise<Registry> {
  return registerWorkflows(await loadWorkflows(module));
}

function printVerdicts(p: Printer, verdicts: readonly Verdict[]): void {
  const counts = { compatible: 0, diverges: 0, orphaned: 0, upcast_failed: 0 };
  for (const v of verdicts) counts[v.kind]++;
  if (p.json) {
    p.out.log(JSON.stringify({ runs: verdicts, summary: { total: verdicts.length, ...counts } }));
    return;
  }
  const paint = (v: Verdict): string =>
    v.kind === "compatible"
      ? p.style.green(v.kind)
      : v.kind === "diverges" || v.kind === "upcast_failed"
        ? p.style.red(v.kind)
        : p.style.yellow(v.kind);
  for (const v of verdicts) {
    const version = v.version === null ? "" : `@${v.version}`;
    p.out.log(`${v.run}  ${v.workflow}${version}  ${paint(v)}  ${v.detail}`);
    if (v.kind === "diverges") {
      if (v.recordedSite !== null) p.out.log(`    recorded at ${v.recordedSite}`);
      if (v.askedSite !== null) p.out.log(`    asked at    ${v.askedSite}`);
    }
  }
  p.out.log(
    `${verdicts.length} run${verdicts.length === 1 ? "" : "s"}: ${counts.compatible} compatible, ` +
      `${counts.diverges} diverge, ${counts.orphaned} orphaned` +
      (counts.upcast_failed === 0 ? "" : `, ${counts.upcast_failed} upcast failed`),
  );
}

function exitFor(verdicts: readonly Verdict[]): void {
  if (verdicts.some((v) => v.kind !== "compatible")) process.exitCode = EXIT_WOULD_BREAK;
}

/** The `replay` command. */
export function replayCommand(out: Output): Command {
  return new Command("replay")
    .description(
      "replay a journal file (endure export --replayable) with a workflows module, executing " +
        "nothing; report the first divergence",
    )
    .requiredOption("--workflows <module>", "module exporting the workflows (the new code)")
    .requiredOption("--journal <file>", "journal file, JSON Lines")
    .option("--json", "print JSON for scripts instead of text")
    .action(async (flags: { workflows: string; journal: string; json?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(flags.journal, "utf8");
      } catch (e) {
        throw new InvalidArgumentError(
          `cannot read the journal file ${flags.journal}: ${(e as Error).message}`,
        );
      }
      const file = parseJournalFile(text, flags.journal);
      const verdict = await checkJournal(await registryOf(flags.workflows), file);
      printVerdicts(printerFor(out, flags), [verdict]);
      exitFor([verdict]);
    });
}

/** The `check` command: the deploy gate. */
export function checkCommand(out: Output): Command {
  return new Command("check")
    .description(
      "replay every run in flight in a store with a workflows module, executing and writing " +
        "nothing: compatible, diverges (needs a patch or a version), orphaned (its version is " +
        "not in the module), or upcast_failed (a journaled payload cannot reach its shape)",
    )
    .requiredOption("--workflows <module>", "module exporting the workflows (the new code)")
    .requiredOption("--store <url>", "store to check: SQLite file or postgres:// URL")
    .option("--schema <name>", "PostgreSQL schema of endure's tables")
    .option("--keys <file>", KEYS_OPTION_HELP)
    .option("--json", "print JSON for scripts instead of text")
    .action(
      async (flags: {
        workflows: string;
        store: string;
        schema?: string;
        keys?: string;
        json?: boolean;
      }) => {
        const registry = await registryOf(flags.workflows);
        const codec = codecFromKeys(flags.keys);
        const store = await openForCheck(flags.store, flags.schema);
        try {
          const verdicts = await checkStore(openedStore(store, codec), registry);
          printVerdicts(printerFor(out, flags), verdicts);
          exitFor(verdicts);
        } finally {
          await store.close();
        }
      },
    );
}

async function openForCheck(url: string, schema: string | undefined): Promise<Store> {
  const isPostgres = /^postgres(ql)?:\/\//.test(url);
  if (!isPostgres && !existsSync(url.replace(/^sqlite:(\/\/)?/, ""))) {
    process.exitCode = EXIT_STORE_UNREACHABLE;
    throw new StoreUnavailableError(`no store at ${url}: the SQLite file does not exist`);
  }
  // Read-only: the gate runs against production stores and must change nothing in them, not
  // even a migration (a store behind this code's schema is refused with store_outdated).
  const store = storeFromUrl(url, { readOnly: true, ...(schema === undefined ? {} : { schema }) });
  try {
    await store.open();
  } catch (e) {
    process.exitCode = EXIT_STORE_UNREACHABLE;
    if (isEndureError(e)) throw e;
    throw new StoreUnavailableError(`cannot open the store ${url}: ${(e as Error).message}`);
  }
  return store;
}

/** Every run that has not ended, checked against the registry, oldest page first. */
export async function checkStore(store: Store, registry: Registry): Promise<Verdict[]> {
  const runs: RunRecord[] = [];
  for (const status of ["pending", "running", "waiting", "paused"] as const) {
    let cursor: string | undefined;
    do {
      const page = await store.listRuns({
        status,
        limit: LIST_RUNS_LIMIT_MAX,
        ...(cursor === undefined ? {} : { cursor }),
      });
      // Retention runs belong to endure, not to the module.
      runs.push(...page.runs.filter((r) => r.workflow !== GC_WORKFLOW));
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
  }
  const verdicts: Verdict[] = new Array<Verdict>(runs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const i = next++;
      const run = runs[i] as RunRecord;
      const entries = await store.readJournal(run.id);
      const file: JournalFile = {
        run: {
          id: run.id,
          workflow: run.workflow,
          version: run.version,
          status: run.status,
          input: run.input,
        },
        entries,
      };
      verdicts[i] = await checkJournal(registry, file);
    }
  };
  await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
  return verdicts;
}
