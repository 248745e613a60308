// npm run demo: a lead-scouting agent that survives a crash, told step by step.
//
// The agent (examples/demo/lead-scout.ts) runs in a worker process of its own, on the embedded
// SQLite store, with tools that talk to a small site served here on 127.0.0.1 and a model that
// is offline unless OPENAI_BASE_URL / OPENAI_API_KEY (or ANTHROPIC_API_KEY) name a real one.
// This process starts the run and tells its story from the journal. Part way, it kills the
// worker with SIGKILL, starts a new one, and shows what the new worker restored from the
// journal and how many model calls it paid for again (none). It then asks you to approve the
// outreach email (on a terminal; it approves by itself otherwise, or obeys --approve /
// --reject), and prints the result, the model calls and tokens, and how to open the run in
// the dashboard.
//
//   npm run demo [-- --fast] [--approve | --reject] [--db <file>]
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, relative } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createEngine, type Engine, type JournalRecord } from "endure";
import { sqliteStore } from "endure/sqlite";
import { offlineModel, scout, SITE_ENV, type ScoutResult } from "./demo/lead-scout.js";
import { startSite, type FixtureSite } from "./demo/site.js";
import { bar, seconds, Story, type Out } from "./demo/story.js";
import { modelCallsFile, type CountedCall } from "./demo/worker.js";
import { modelFromEnv } from "./models.js";

// `endure dev examples/demo.ts` serves the demo's workflow (and shows its runs).
export { scout };

/** The worker is killed once this many steps are in the journal, in the middle of the next. */
export const KILL_AFTER_STEPS = 4;

/** How often the story reads the journal, in milliseconds. */
const FOLLOW_MS = 25;

/** What the agent is asked to find. */
const QUERY = "AI agents in production";

/** How the approval is decided: asked on the terminal, or decided by a flag. */
export type Decide = "ask" | "approve" | "reject";

/** Options of {@link main}. */
export interface DemoOptions {
  /** The SQLite file (default `.endure/demo.db`). */
  db?: string;
  /** No pauses meant for reading (CI and tests). */
  fast?: boolean;
  /** Default: ask on a terminal, approve by itself otherwise. */
  decide?: Decide;
  out?: Out;
  env?: NodeJS.ProcessEnv;
}

/** What the demo measured. */
export interface DemoReport {
  readonly runId: string;
  readonly result: ScoutResult | null;
  /** Steps the new worker took from the journal instead of running them. */
  readonly restored: number;
  /** Steps in the run's journal at the end. */
  readonly steps: number;
  /** Model calls made for a step whose reply was already journaled. */
  readonly rePaid: number;
  /** Model calls made (paid), and model calls journaled. */
  readonly paidCalls: number;
  readonly journaledCalls: number;
  readonly emailsSent: number;
}

const WORKER = fileURLToPath(new URL("./demo/worker.ts", import.meta.url));

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function startWorker(
  db: string,
  delayMs: number,
  site: string,
  env: NodeJS.ProcessEnv,
): Promise<Worker> {
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), WORKER, db, String(delayMs)],
    { env: { ...env, [SITE_ENV]: site }, stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve({ child, exited });
    });
    void exited.then(() =>
      reject(new Error(`the worker process ${child.pid} exited before it was ready`)),
    );
  });
}

const stepName = (key: string | null): string => (key ?? "").replace(/#\d+$/, "");

function countedCalls(db: string, runId: string): CountedCall[] {
  const file = modelCallsFile(db);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as CountedCall)
    .filter((c) => c.key.startsWith(`${runId}/`));
}

/** Model calls made after their step's reply was journaled: paid twice. */
function rePaidCalls(
  journal: readonly JournalRecord[],
  calls: readonly CountedCall[],
  runId: string,
): number {
  const journaledAt = new Map<string, number>();
  for (const e of journal)
    if (e.type === "step_succeeded" && e.key !== null)
      journaledAt.set(`${runId}/${e.key}`, e.at.getTime());
  return calls.filter((c) => {
    const at = journaledAt.get(c.key);
    return at !== undefined && c.at > at;
  }).length;
}

interface StepData {
  attempt?: number;
  attempts?: number;
  delayMs?: number;
  error?: { message?: string };
  usage?: { inputTokens: number; outputTokens: number };
  result?: unknown;
  kind?: string;
  status?: string;
}

/** A few words on what a step returned. */
function whatItGot(name: string, result: unknown): string {
  if (name === "search") return `${(result as unknown[]).length} companies found`;
  if (name.startsWith("fetch ")) return `page read, ${String(result).split(" ").length} words`;
  if (name === "send outreach") return `sent: the outbox answered ${String(result)}`;
  const text = (result as { text?: string }).text ?? "";
  if (name.startsWith("extract ")) {
    try {
      const l = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1)) as Record<
        string,
        unknown
      >;
      return `${String(l["employees"])} people, ${String(l["city"])}${l["inProduction"] === true ? ", agents in production" : ""}`;
    } catch {
      return "facts extracted";
    }
  }
  return "summary and email drafted";
}

/** Runs the demo; returns what it measured. */
export async function main(options: DemoOptions = {}): Promise<DemoReport> {
  const db = options.db ?? ".endure/demo.db";
  const fast = options.fast ?? false;
  const env = options.env ?? process.env;
  const story = new Story(options.out ?? process.stdout);
  const decide: Decide = options.decide ?? "ask";
  mkdirSync(dirname(db), { recursive: true });

  const site: FixtureSite = await startSite({ delayMs: fast ? 0 : 350 });
  const modelDelay = fast ? 150 : 900;
  const engine: Engine = await createEngine({
    store: sqliteStore(db),
    workflows: [scout],
    worker: false,
  });
  let worker: Worker | null = null;
  const interrupted = () => {
    worker?.child.kill("SIGKILL");
    story.stopStatus();
    story.line("\ninterrupted. The run is safe in the journal: `npm run demo` again resumes it.");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  try {
    const { label } = modelFromEnv(env, offlineModel());
    const runs = (await engine.listRuns({ workflow: "lead-scout", limit: 1000 })).runs;
    const unfinished = runs.find((r) => ["pending", "running", "waiting"].includes(r.status));
    const runId = unfinished?.id ?? `scout-${runs.length + 1}`;

    story.line(story.bold("endure demo: a lead-scouting agent that survives a crash"));
    story.line();
    story.line(
      `  journal  ${db} ${story.dim("(embedded SQLite: every step is written here before the agent goes on)")}`,
    );
    story.line(`  model    ${label}`);
    story.line(
      `  site     ${site.url} ${story.dim("(a small site the agent's tools search, read and send email through)")}`,
    );
    story.line();

    if (unfinished === undefined) {
      await engine.start(scout, { query: QUERY }, { id: runId });
      story.line(`▶ run ${runId} started: find leads for "${QUERY}", email the best one`);
    } else {
      story.line(
        `▶ run ${runId} was left unfinished last time: a worker resumes it from its journal`,
      );
    }
    worker = await startWorker(db, modelDelay, site.url, env);
    story.line(`▶ worker process ${worker.child.pid} started: it claims the run and works on it`);

    // ---- following the journal -------------------------------------------------------------
    let seen = 0;
    let planned = 0;
    let done = false;
    const succeeded = new Set<string>();
    const inFlight = new Map<string, { attempt: number; since: number }>();
    let killPlanned = unfinished === undefined;
    let resumeFrom: { restored: Set<string>; since: number } | null = null;
    // A run left unfinished: its journal so far is read without telling it again.
    let quiet = unfinished !== undefined;
    const say = (text: string): void => {
      if (!quiet) story.line(text);
    };
    let resumeShown = false;
    let restoredCount = 0;
    let deciding = false;
    let openApproval: string | null = null;
    const stepNo = (): string =>
      planned > 0 ? `${succeeded.size}/${planned}` : `${succeeded.size}`;

    let modelCall: { key: string; since: number } | null = null;
    let lastProgress = Date.now();
    const status = (): string => {
      const [key, f] = [...inFlight.entries()][0] ?? [null, null];
      const what =
        openApproval !== null
          ? "waiting for a decision"
          : key !== null
            ? `${stepName(key)} · attempt ${f?.attempt ?? 1} · ${seconds(Date.now() - (f?.since ?? Date.now()))}`
            : modelCall !== null
              ? `${stepName(modelCall.key)} · the model is thinking · ${seconds(Date.now() - modelCall.since)}`
              : `step ${succeeded.size + 1} · ${seconds(Date.now() - lastProgress)}`;
      return `${story.color("cyan", story.spinner())} ${bar(succeeded.size, planned || 9)} ${succeeded.size}/${planned || "?"} steps  ${what}`;
    };
    story.startStatus(status);

    const showResume = (journal: readonly JournalRecord[]) => {
      if (resumeFrom === null || resumeShown) return;
      resumeShown = true;
      restoredCount = resumeFrom.restored.size;
      const rePaid = rePaidCalls(journal, countedCalls(db, runId), runId);
      story.line(
        story.color(
          "green",
          `  ↻ resumed: ${restoredCount} of ${planned} steps restored from the journal, model calls re-paid: ${rePaid}`,
        ),
      );
    };

    const narrate = (e: JournalRecord, journal: readonly JournalRecord[]) => {
      lastProgress = Date.now();
      const d = (e.data ?? {}) as StepData;
      const name = stepName(e.key);
      switch (e.type) {
        case "step_attempt_started":
          if (resumeFrom !== null && !resumeShown) showResume(journal);
          inFlight.set(e.key ?? "", { attempt: d.attempt ?? 1, since: e.at.getTime() });
          if ((d.attempt ?? 1) > 1) say(`  ↻ ${name}: attempt ${d.attempt}`);
          break;
        case "step_attempt_failed":
        case "step_verification_failed":
          inFlight.delete(e.key ?? "");
          say(
            story.color(
              "yellow",
              `  ✗ ${name}: attempt ${d.attempt} of ${d.attempts} failed (${d.error?.message ?? "error"}); retrying in ${seconds(d.delayMs ?? 0)}`,
            ),
          );
          break;
        case "step_succeeded": {
          inFlight.delete(e.key ?? "");
          succeeded.add(e.key ?? "");
          if (name === "search") planned = 1 + 2 * (d.result as unknown[]).length + 2;
          const tokens =
            d.usage === undefined
              ? ""
              : story.dim(
                  ` · model call: ${d.usage.inputTokens} tokens in, ${d.usage.outputTokens} out`,
                );
          say(
            `  ${story.color("green", "✓")} ${stepNo().padStart(4)}  ${name.padEnd(20)} ${whatItGot(name, d.result)}${tokens}`,
          );
          break;
        }
        case "step_failed":
          inFlight.delete(e.key ?? "");
          say(
            story.color(
              "red",
              `  ✗ ${name} failed after ${d.attempts} attempts: ${d.error?.message ?? "error"}`,
            ),
          );
          break;
        case "wait_started":
          if (d.kind === "approval") openApproval = name;
          break;
        case "run_suspended":
          say(
            story.dim(
              "  ⏾ while it waits, the run leaves the worker's memory: a wait of days costs nothing",
            ),
          );
          break;
        case "wait_completed": {
          openApproval = null;
          const r = d.result as {
            approved?: boolean;
            by?: string | null;
            comment?: string | null;
          } | null;
          const verdict =
            r?.approved === true
              ? story.color("green", "approved")
              : story.color("red", "rejected");
          say(
            `  ${r?.approved === true ? "✓" : "✗"} ${name}: ${verdict} by ${r?.by ?? "nobody"}${r?.comment ? ` ("${r.comment}")` : ""}`,
          );
          break;
        }
        case "run_recovered":
          say(
            `  ↻ the new worker finds the run unfinished, its old worker gone, and replays it from the top`,
          );
          break;
        case "run_resumed":
          say(
            story.dim(
              "  ↻ the decision wakes the run: a worker replays it from the journal to the approval and goes on",
            ),
          );
          break;
        case "run_completed":
        case "run_failed":
        case "run_cancelled":
        case "run_timed_out":
        case "run_paused":
          done = true;
          break;
        default:
      }
    };

    const decideApproval = async (name: string): Promise<void> => {
      const pending = (await engine.approvals({ runId })).find((a) => a.name === name);
      if (pending === undefined) return;
      const mail = pending.details as { to: string; subject: string; body: string };
      story.line(story.bold(`  ⏸ waiting for a person: ${pending.title}`));
      story.line(story.dim(`      subject: ${mail.subject}`));
      story.line(story.dim(`      ${mail.body}`));
      let verdict: { approve: boolean; by: string; comment: string };
      const me = userInfo().username;
      if (decide === "approve" || decide === "reject") {
        verdict = {
          approve: decide === "approve",
          by: me,
          comment: `--${decide} on the command line`,
        };
      } else if (!story.tty) {
        story.line(
          `  no terminal to ask: the demo approves by itself (pass --reject to see a rejection)`,
        );
        verdict = {
          approve: true,
          by: "endure-demo",
          comment: "approved by itself: no terminal to ask",
        };
      } else {
        story.line(
          story.dim(
            `    or decide from another terminal: npx endure approvals approve ${runId} '${name}' --store ${db}`,
          ),
        );
        story.stopStatus();
        const answer = await ask(`    approve? [y/n] `, () =>
          engine.approvals({ runId }).then((p) => p.every((a) => a.name !== name)),
        );
        story.startStatus(status);
        if (answer === null) return; // decided elsewhere: the journal tells who
        verdict = {
          approve: /^y/i.test(answer),
          by: me,
          comment: "decided on the demo's terminal",
        };
      }
      const decision = { by: verdict.by, comment: verdict.comment };
      await (verdict.approve
        ? engine.approve(runId, name, decision)
        : engine.reject(runId, name, decision));
    };

    for (;;) {
      const journal = await engine.journal(runId);
      for (const e of journal.slice(seen)) narrate(e, journal);
      seen = journal.length;
      if (quiet) {
        quiet = false;
        resumeFrom = { restored: new Set(succeeded), since: Date.now() };
        story.line(`  its journal holds ${succeeded.size} finished steps: they will not run again`);
      }
      if (done) break;
      if (openApproval !== null && !deciding) {
        deciding = true;
        void decideApproval(openApproval);
      }
      // The worker counts each model call before making it: a call it made whose step is not in
      // the journal yet is in flight. That is the moment to kill it.
      const calling = countedCalls(db, runId).find(
        (c) => c.pid === worker?.child.pid && !succeeded.has(c.key.slice(runId.length + 1)),
      );
      const running = calling?.key.slice(runId.length + 1);
      modelCall = calling === undefined ? null : { key: running ?? "", since: calling.at };
      if (
        killPlanned &&
        succeeded.size >= KILL_AFTER_STEPS &&
        running !== undefined &&
        worker !== null
      ) {
        killPlanned = false;
        const pid = worker.child.pid;
        worker.child.kill("SIGKILL");
        await worker.exited;
        story.line(
          story.color(
            "red",
            `  ☠ killed the worker (process ${pid}) with SIGKILL while its model call "${stepName(running)}" was in flight`,
          ),
        );
        story.line(
          story.dim(
            `    a crash, a deploy, a laptop lid: ${succeeded.size} steps are already in the journal`,
          ),
        );
        resumeFrom = { restored: new Set(succeeded), since: Date.now() };
        inFlight.clear();
        worker = await startWorker(db, modelDelay, site.url, env);
        story.line(`▶ new worker process ${worker.child.pid} started`);
      }
      await new Promise((r) => setTimeout(r, FOLLOW_MS));
    }
    story.stopStatus();

    // ---- the result ------------------------------------------------------------------------
    const journal = await engine.journal(runId);
    const info = await engine.getRun(runId);
    const calls = countedCalls(db, runId);
    const rePaid = rePaidCalls(journal, calls, runId);
    const steps = new Set(journal.filter((e) => e.type === "step_succeeded").map((e) => e.key))
      .size;
    const result = (info?.output ?? null) as ScoutResult | null;
    story.line();
    if (info?.status !== "completed" || result === null) {
      story.line(
        story.color(
          "red",
          `run ${runId} ended ${info?.status ?? "unknown"}: ${info?.error?.message ?? ""}`,
        ),
      );
    } else {
      const best = result.leads.find((l) => l.company === result.best);
      story.line(story.bold("result"));
      story.line(
        `  best lead    ${result.best} (${best?.employees ?? "?"} people, ${best?.city ?? "?"})`,
      );
      story.line(`  summary      ${result.summary}`);
      story.line(
        result.sent
          ? `  outreach     sent to ${result.outreach.to}, ${site.outbox.length === 1 ? "once" : `${site.outbox.length} times`} (the outbox holds ${site.outbox.length} email; message ${result.messageId ?? "?"})`
          : `  outreach     not sent: rejected by ${result.decidedBy ?? "nobody"} (the outbox holds ${site.outbox.length} emails)`,
      );
      story.line(`  decided by   ${result.decidedBy ?? "nobody"}`);
    }
    story.line(story.bold("what it cost"));
    if (resumeFrom !== null)
      story.line(
        `  after the kill  ${restoredCount} of ${steps} steps restored from the journal, model calls re-paid: ${rePaid}`,
      );
    story.line(
      `  model calls     ${info?.usage.calls ?? 0} journaled, ${calls.length} made` +
        (calls.length > (info?.usage.calls ?? 0)
          ? " (the one cut off by the kill was asked again: its reply was never journaled)"
          : ""),
    );
    story.line(
      `  tokens          ${info?.usage.inputTokens ?? 0} in, ${info?.usage.outputTokens ?? 0} out`,
    );
    story.line();
    story.line("open the run in the dashboard:");
    story.line(
      `  npx endure dev ${relative(process.cwd(), fileURLToPath(import.meta.url))} --store ${db}`,
    );
    story.line(`  then http://127.0.0.1:4100/#/runs/${runId} (sign in with the token it prints)`);
    worker.child.kill("SIGTERM");
    await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 5_000))]);
    return {
      runId,
      result,
      restored: restoredCount,
      steps,
      rePaid,
      paidCalls: calls.length,
      journaledCalls: info?.usage.calls ?? 0,
      emailsSent: site.outbox.length,
    };
  } finally {
    process.off("SIGINT", interrupted);
    story.stopStatus();
    worker?.child.kill("SIGKILL");
    await engine.close();
    await site.close();
  }
}

/** Asks on the terminal; resolves null instead when `decidedElsewhere()` turns true. */
function ask(question: string, decidedElsewhere: () => Promise<boolean>): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      void decidedElsewhere().then((yes) => {
        if (!yes) return;
        clearInterval(poll);
        rl.close();
        process.stdout.write("\n");
        resolve(null);
      });
    }, 250);
    rl.question(question, (answer) => {
      clearInterval(poll);
      rl.close();
      resolve(answer);
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes("--help")) {
    console.log("npm run demo [-- --fast] [--approve | --reject] [--db <file>]");
    process.exit(0);
  }
  const at = args.indexOf("--db");
  const report = await main({
    fast: args.includes("--fast"),
    decide: args.includes("--reject") ? "reject" : args.includes("--approve") ? "approve" : "ask",
    ...(at >= 0 && args[at + 1] !== undefined ? { db: args[at + 1] } : {}),
  });
  process.exit(report.result === null ? 1 : 0);
}
