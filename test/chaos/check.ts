// The invariants a chaos run must keep, checked after the storm from what the engine
// journaled, what the step bodies logged outside it, and the rows their effects left.
import { isDeepStrictEqual } from "node:util";
import type { JournalRecord, RunInfo } from "endure";

/** A run the harness started (or triggered) and what an uninterrupted run returns. */
export interface PlannedRun {
  readonly id: string;
  readonly kind: string;
  readonly expected: unknown;
}

/** A finished run as read back, before retention could delete it. */
export interface RunSnapshot {
  readonly info: RunInfo;
  readonly journal: readonly JournalRecord[];
}

/** Everything the checker reads. */
export interface Evidence {
  readonly planned: readonly PlannedRun[];
  readonly snapshots: ReadonlyMap<string, RunSnapshot>;
  /** Runs that were never seen finished, with how they were last seen. */
  readonly unfinished: ReadonlyMap<string, string>;
  /** The execution log: `start|end <idempotency key> <token> <worker>` lines (tab-separated), in order. */
  readonly logLines: readonly string[];
  /** Keyed effects in the side database, by idempotency key. */
  readonly effects: ReadonlyMap<string, string>;
  /** Rows of transactional effects per run id. */
  readonly txRows: ReadonlyMap<string, number>;
}

const TERMINAL = new Set(["run_completed", "run_failed", "run_cancelled", "run_timed_out"]);
const SETTLING = new Set(["step_succeeded", "step_failed", "sleep_completed", "wait_completed"]);
const TOKEN = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Checks every invariant; returns one line per violation (empty: none). */
export function checkInvariants(evidence: Evidence): string[] {
  const violations: string[] = [];
  const executions = parseLog(evidence.logLines, violations);
  for (const run of evidence.planned) {
    const snapshot = evidence.snapshots.get(run.id);
    if (snapshot === undefined) {
      violations.push(`${run.id}: never ended (${evidence.unfinished.get(run.id) ?? "unseen"})`);
      continue;
    }
    checkOutcome(run, snapshot, violations);
    checkJournal(run.id, snapshot.journal, violations);
    checkExecutions(run.id, snapshot.journal, executions, evidence.effects, violations);
    const rows = evidence.txRows.get(run.id) ?? 0;
    // Agents have no transactional step of their own.
    if (rows !== (run.kind === "agent" ? 0 : 1))
      violations.push(`${run.id}: its transactional effect exists ${rows} times`);
  }
  return violations;
}

function checkOutcome(run: PlannedRun, snapshot: RunSnapshot, violations: string[]): void {
  const { info } = snapshot;
  if (info.status !== "completed") {
    violations.push(
      `${run.id}: ended ${info.status} (${info.error?.message ?? info.pausedReason ?? ""})`,
    );
    return;
  }
  const got = run.kind === "agent" ? (info.output as { text?: unknown } | null)?.text : info.output;
  if (!isDeepStrictEqual(got, run.expected))
    violations.push(
      `${run.id}: returned ${JSON.stringify(got)}, an uninterrupted run returns ${JSON.stringify(run.expected)}`,
    );
}

/** Well-formed and ordered: seq 1..n, started first, one terminal entry and last, operation
 * positions without a gap, each operation settled at most once. */
function checkJournal(runId: string, journal: readonly JournalRecord[], violations: string[]) {
  journal.forEach((e, i) => {
    if (e.seq !== i + 1) violations.push(`${runId}: journal entry ${i + 1} has seq ${e.seq}`);
  });
  if (journal[0]?.type !== "run_started")
    violations.push(`${runId}: journal starts with ${journal[0]?.type ?? "nothing"}`);
  const terminal = journal.filter((e) => TERMINAL.has(e.type));
  if (terminal.length !== 1 || !TERMINAL.has(journal.at(-1)?.type ?? ""))
    violations.push(
      `${runId}: ${terminal.length} terminal entries, the last entry is ${journal.at(-1)?.type}`,
    );
  // Every operation the code asked for wrote at least one entry at its position, so the
  // positions of a completed run are 1..n with no gap: a gap is a result the store lost.
  const positions = new Set(journal.flatMap((e) => (e.position === null ? [] : [e.position])));
  if (journal.at(-1)?.type === "run_completed")
    for (let p = 1; p <= positions.size; p++)
      if (!positions.has(p)) {
        violations.push(`${runId}: no entry at operation position ${p} of ${positions.size}`);
        break;
      }
  const settled = new Set<string>();
  for (const e of journal) {
    if (!SETTLING.has(e.type)) continue;
    const id = `${e.position ?? ""}/${e.key ?? ""}`;
    if (settled.has(id)) violations.push(`${runId}: operation ${e.key} settled twice (${e.type})`);
    settled.add(id);
  }
}

interface Execution {
  readonly token: string;
  readonly start: number;
  end: number | null;
}

/** Executions by idempotency key, each with the log line numbers of its start and end. */
function parseLog(lines: readonly string[], violations: string[]): Map<string, Execution[]> {
  const byKey = new Map<string, Execution[]>();
  lines.forEach((line, n) => {
    const [what, key, token] = line.split("\t");
    if (key === undefined || token === undefined) return;
    const list = byKey.get(key) ?? [];
    byKey.set(key, list);
    if (what === "start") list.push({ token, start: n, end: null });
    else {
      const execution = list.find((x) => x.token === token);
      if (execution === undefined) violations.push(`log line ${n + 1} ends an unknown body`);
      else execution.end = n;
    }
  });
  return byKey;
}

/**
 * Each key's committed execution (the one whose token the journal holds) ended before any
 * other execution of that key started: no committed body ran again. Every key a completed
 * run executed has exactly one committed result, and its keyed effect exists.
 */
function checkExecutions(
  runId: string,
  journal: readonly JournalRecord[],
  executions: ReadonlyMap<string, Execution[]>,
  effects: ReadonlyMap<string, string>,
  violations: string[],
): void {
  const committed = new Set<string>();
  for (const e of journal)
    if (e.type === "step_succeeded")
      for (const token of JSON.stringify(e.data).match(TOKEN) ?? []) committed.add(token);
  for (const [key, list] of executions) {
    if (!key.startsWith(`${runId}/`)) continue;
    const winners = list.filter((x) => committed.has(x.token));
    if (winners.length !== 1) {
      violations.push(`${key}: ${winners.length} committed results of ${list.length} executions`);
      continue;
    }
    const winner = winners[0]!;
    const later = list.find((x) => x !== winner && winner.end !== null && x.start > winner.end);
    if (later !== undefined)
      violations.push(`${key}: its body ran again (${later.token}) after its committed run`);
    if (effects.get(key) !== runId) violations.push(`${key}: its keyed effect is missing`);
  }
}
