// Waits on PostgreSQL: signals and approvals, each ended in the transaction that decides it,
// and event waits taking the events sent before them (events themselves: events.ts). Where
// SQLite has one writer, PostgreSQL has many sessions, so the order of locks is the design:
// whoever ends a run's wait first locks the run's row (FOR UPDATE), and an event and an event
// wait of the same key meet under that key's advisory lock, so that an event and a wait
// created at the same moment always find each other (no lost wake-up). Lock order is always:
// event names, then keys, then runs by id.
import type pg from "pg";
import { refusalOf, verdictOf, type RecordedDecision } from "../../core/approval-rules.js";
import { matchKeyOf } from "../../core/match.js";
import type { WaitClosure, WaitRequest } from "../../core/run-port.js";
import {
  encodeApprovalResult,
  encodeReceivedEvent,
  encodeReceivedSignal,
} from "../../core/wait-values.js";
import type {
  ApprovalRecord,
  DecideResult,
  DecisionInput,
  InboxItem,
  WaitRecord,
  WaitRef,
} from "../store.js";
import { sameData, withdrawnValue } from "../withdrawn.js";
import { childOutcomeOf, stoppedWaiting } from "../children.js";
import { encodeChildRefusal } from "../../core/wait-values.js";
import type { Cancellation } from "../../core/types.js";
import { query } from "./connection.js";
import {
  DELETED_EVENTS_CURSOR,
  type StorePayloads,
  toWait,
  WAIT_COLUMNS,
  type EventRow,
  type WaitRow,
} from "../sql-rows.js";

/** Statuses a run ends with, as SQL. */
const ENDED = "('completed', 'failed', 'cancelled', 'timed_out')";

/** What a child wait reads of its child run. */
interface ChildRow {
  parent_id: string | null;
  status: string;
  output: string | null;
  error: string | null;
}

/** The highest event position given to an event now visible: stored, or deleted by retention
 * (see DELETED_EVENTS_CURSOR). */
export function lastEventPos(S: string): string {
  return `greatest(coalesce((SELECT max(pos) FROM ${S}.events), 0),
    coalesce((SELECT value FROM ${S}.cursors WHERE name = '${DELETED_EVENTS_CURSOR}'), 0))`;
}

/** Operations on the waits of schema `S`, each on a client inside a transaction. */
export class PostgresWaits {
  constructor(
    private readonly S: string,
    private readonly schema: string,
    private readonly payloads: StorePayloads,
  ) {}

  async getWait(c: pg.ClientBase, runId: string, position: number): Promise<WaitRecord | null> {
    const [row] = await query<WaitRow>(
      c,
      `SELECT ${WAIT_COLUMNS} FROM ${this.S}.waits WHERE run_id = $1 AND position = $2`,
      [runId, position],
    );
    return row === undefined ? null : toWait(row);
  }

  /** Locks runs' rows in id order; returns the ids that exist with their status. */
  async lockRuns(c: pg.ClientBase, ids: readonly string[]): Promise<Map<string, string>> {
    const rows = await query<{ id: string; status: string }>(
      c,
      `SELECT id, status FROM ${this.S}.runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [[...ids]],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /**
   * Creates waits written by a run (its row is locked by the commit, the keys of its event
   * waits by the caller: see `lockEventWaits`), ending at once those an earlier event or
   * signal meets.
   */
  async create(c: pg.ClientBase, runId: string, waits: readonly WaitRequest[], now: number) {
    for (const w of waits) {
      const paths = JSON.stringify(w.match?.paths ?? []);
      const key = w.match?.key ?? "[]";
      await query(
        c,
        `INSERT INTO ${this.S}.waits (run_id, position, key, kind, target, match_paths, match_key,
           timeout_at, details, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10)`,
        [runId, w.position, w.key, w.kind, w.target, paths, key, w.timeoutAt, w.details, now],
      );
      if (w.kind === "event") await this.takeEvent(c, runId, w.position, w.target, paths, key, now);
      else if (w.kind === "signal") await this.takeSignal(c, runId, w.position, w.target, now);
      else if (w.kind === "child") await this.takeChild(c, runId, w.position, w.target, now);
    }
  }

  /**
   * A child run ended (its last write, in this transaction, with its parent's row locked
   * first): its parent's open waits for it end with its outcome, and the parent becomes
   * runnable. Returns the ended waits, with the parent's workflow and owner to notify.
   */
  async childEnded(
    c: pg.ClientBase,
    childId: string,
    now: number,
  ): Promise<{ refs: WaitRef[]; workflow: string | null; owner: string | null }> {
    const none = { refs: [], workflow: null, owner: null };
    const [row] = await query<ChildRow>(
      c,
      `SELECT parent_id, status, output, error FROM ${this.S}.runs WHERE id = $1`,
      [childId],
    );
    if (row === undefined || row.parent_id === null) return none;
    const value = childOutcomeOf(row.status, row.output, row.error);
    if (value === null) return none;
    const ended = await query<{ position: number }>(
      c,
      `UPDATE ${this.S}.waits SET status = 'satisfied', value = $3, ended_at = $4
       WHERE run_id = $1 AND kind = 'child' AND target = $2 AND status = 'open'
       RETURNING position`,
      [row.parent_id, childId, value, now],
    );
    if (ended.length === 0) return none;
    const [parent] = await query<{ workflow: string; owner: string | null }>(
      c,
      `UPDATE ${this.S}.runs SET status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE id = $1 RETURNING workflow, owner`,
      [row.parent_id],
    );
    const parentId = row.parent_id;
    return {
      refs: ended.map((w) => ({ runId: parentId, position: w.position })),
      workflow: parent?.workflow ?? null,
      owner: parent?.owner ?? null,
    };
  }

  /** Asks the live, attached children of `parentId` to cancel; returns their ids. */
  async cancelChildren(
    c: pg.ClientBase,
    parentId: string,
    cancellation: Cancellation,
    now: number,
  ): Promise<string[]> {
    const rows = await query<{ id: string }>(
      c,
      `UPDATE ${this.S}.runs SET cancel_requested = coalesce(cancel_requested, $2), updated_at = $3,
         status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE parent_id = $1 AND NOT detached AND status NOT IN ${ENDED} RETURNING id`,
      [parentId, JSON.stringify(cancellation), now],
    );
    return rows.map((r) => r.id);
  }

  /** Ends a new child wait at once when its child ended, or refuses one that is not a child. */
  private async takeChild(
    c: pg.ClientBase,
    runId: string,
    position: number,
    childId: string,
    now: number,
  ): Promise<void> {
    const [child] = await query<ChildRow>(
      c,
      `SELECT parent_id, status, output, error FROM ${this.S}.runs WHERE id = $1`,
      [childId],
    );
    if (child !== undefined && child.parent_id === runId) {
      const value = childOutcomeOf(child.status, child.output, child.error);
      if (value !== null) await this.end(c, runId, position, "satisfied", value, now);
      return;
    }
    // An ancestor (or the run itself) with that id: the run would wait on itself.
    const [cycle] = await query<{ found: boolean }>(
      c,
      `WITH RECURSIVE up(id, depth) AS (
         SELECT $1::text, 0
         UNION ALL SELECT r.parent_id, up.depth + 1 FROM ${this.S}.runs r JOIN up ON r.id = up.id
         WHERE r.parent_id IS NOT NULL AND up.depth < 10000)
       SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS found`,
      [runId, childId],
    );
    const value =
      cycle?.found === true
        ? encodeChildRefusal(
            "cycle",
            `run ${runId} cannot wait for run '${childId}', which is itself or one of its ` +
              "ancestors: it would wait on itself. Give the child an id of its own",
          )
        : encodeChildRefusal(
            "conflict",
            `run ${runId} cannot start child run '${childId}': a run with that id exists and ` +
              "is not its child. Give the child another id (or leave the id out to derive one)",
          );
    await this.end(c, runId, position, "satisfied", value, now);
  }

  /** Asks a child whose parent stopped waiting for it to cancel, unless it is detached. */
  private async cancelChild(c: pg.ClientBase, childId: string, why: string, now: number) {
    await query(
      c,
      `UPDATE ${this.S}.runs SET cancel_requested = coalesce(cancel_requested, $2), updated_at = $3,
         status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE id = $1 AND NOT detached AND status NOT IN ${ENDED}`,
      [childId, why, now],
    );
  }

  /** Buffers a signal, or ends the run's earliest open wait for it. The run's row is locked. */
  async sendSignal(
    c: pg.ClientBase,
    runId: string,
    signal: { name: string; data: string },
    now: number,
  ): Promise<WaitRef[]> {
    await query(
      c,
      `INSERT INTO ${this.S}.signals (run_id, seq, name, data, sent_at)
       SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4 FROM ${this.S}.signals WHERE run_id = $1`,
      [runId, signal.name, signal.data, now],
    );
    const [open] = await query<{ position: number }>(
      c,
      `SELECT position FROM ${this.S}.waits WHERE run_id = $1 AND kind = 'signal' AND target = $2
         AND status = 'open' ORDER BY position LIMIT 1`,
      [runId, signal.name],
    );
    if (open === undefined || !(await this.takeSignal(c, runId, open.position, signal.name, now)))
      return [];
    await this.wake(c, runId);
    return [{ runId, position: open.position }];
  }

  /** Records a decision. The run's row is locked. */
  async decide(
    c: pg.ClientBase,
    runId: string,
    name: string,
    decision: DecisionInput,
    now: number,
  ): Promise<DecideResult> {
    const [row] = await query<WaitRow>(
      c,
      `SELECT ${WAIT_COLUMNS} FROM ${this.S}.waits WHERE run_id = $1 AND kind = 'approval'
         AND target = $2 ORDER BY status = 'open' DESC, position DESC LIMIT 1`,
      [runId, name],
    );
    if (row === undefined) return { kind: "not_found" };
    const wait = toWait(row);
    if (wait.status !== "open") return { kind: "already_ended", wait };
    const rules = this.payloads.rulesOf(wait);
    const decisions = await this.decisionsOf(c, runId, wait.position);
    const refusal = refusalOf(rules, decisions, decision.by, decision.role);
    if (refusal !== null) return { kind: "refused", reason: refusal, wait };
    await query(
      c,
      `INSERT INTO ${this.S}.decisions (run_id, position, "by", approved, comment, role, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [runId, wait.position, decision.by, decision.approved, decision.comment, decision.role, now],
    );
    const all = [...decisions, { ...decision, at: now }];
    const verdict = verdictOf(rules, all);
    if (verdict === null) return { kind: "recorded", wait };
    const value = encodeApprovalResult(verdict, all, now);
    await this.end(c, runId, wait.position, "satisfied", value, now);
    await this.wake(c, runId);
    return { kind: "settled", wait: (await this.getWait(c, runId, wait.position)) as WaitRecord };
  }

  /** Ends an open wait (the run's row is locked); returns it as it ended. */
  async close(
    c: pg.ClientBase,
    runId: string,
    position: number,
    closure: WaitClosure,
    now: number,
  ): Promise<WaitRecord | null> {
    const wait = await this.getWait(c, runId, position);
    if (wait === null || wait.status !== "open") return wait;
    let value: string | null = null;
    if (wait.kind === "approval" && closure.status !== "cancelled") {
      const decisions = await this.decisionsOf(c, runId, position);
      value =
        closure.status === "timed_out"
          ? encodeApprovalResult("timed_out", decisions, now)
          : encodeApprovalResult("resolved", decisions, now, closure.approved ?? false);
    } else if (closure.status === "resolved") {
      value = closure.value;
    }
    await this.end(c, runId, position, closure.status, value, now);
    if (wait.kind === "child")
      await this.cancelChild(c, wait.target, stoppedWaiting(runId, wait.key), now);
    return this.getWait(c, runId, position);
  }

  async addApprovers(
    c: pg.ClientBase,
    runId: string,
    position: number,
    approvers: readonly string[],
  ): Promise<void> {
    const wait = await this.getWait(c, runId, position);
    if (wait === null || wait.status !== "open") return;
    const merged = [...new Set([...wait.addedApprovers, ...approvers])];
    await query(
      c,
      `UPDATE ${this.S}.waits SET added_approvers = $3 WHERE run_id = $1 AND position = $2
         AND status = 'open'`,
      [runId, position, JSON.stringify(merged)],
    );
  }

  /**
   * Withdraws a wait (see Store.withdrawWait). The caller holds the run's row lock.
   */
  async withdraw(
    c: pg.ClientBase,
    runId: string,
    position: number,
    now: number,
  ): Promise<WaitRef[]> {
    const wait = await this.getWait(c, runId, position);
    if (wait === null || wait.status === "cancelled") return [];
    if (wait.status !== "open") {
      const journaled = await query(
        c,
        `SELECT 1 FROM ${this.S}.journal WHERE run_id = $1 AND position = $2
           AND type = 'wait_completed' LIMIT 1`,
        [runId, position],
      );
      if (journaled.length > 0) return [];
    }
    await query(
      c,
      `UPDATE ${this.S}.waits SET status = 'cancelled', value = NULL, ended_at = $3
       WHERE run_id = $1 AND position = $2`,
      [runId, position, now],
    );
    if (wait.kind === "child")
      await this.cancelChild(c, wait.target, stoppedWaiting(runId, wait.key), now);
    if (wait.status !== "satisfied" || wait.value === null) return [];
    const taken = withdrawnValue(wait.kind, wait.value);
    if (taken === null) return [];
    if (taken.kind === "event") {
      const [row] = await query<{ pos: number; name: string }>(
        c,
        `SELECT pos, name FROM ${this.S}.events WHERE id = $1`,
        [taken.id],
      );
      if (row === undefined) return [];
      await query(c, `DELETE FROM ${this.S}.consumed_events WHERE run_id = $1 AND event_pos = $2`, [
        runId,
        row.pos,
      ]);
      const open = await query<{ position: number; match_paths: string; match_key: string }>(
        c,
        `SELECT position, match_paths, match_key FROM ${this.S}.waits
         WHERE run_id = $1 AND kind = 'event' AND target = $2 AND status = 'open'
         ORDER BY position`,
        [runId, row.name],
      );
      for (const w of open) {
        if (await this.takeEvent(c, runId, w.position, row.name, w.match_paths, w.match_key, now))
          return [{ runId, position: w.position }];
      }
      return [];
    }
    const signals = await query<{ seq: number; data: string }>(
      c,
      `SELECT seq, data FROM ${this.S}.signals WHERE run_id = $1 AND name = $2 AND sent_at = $3
         AND consumed ORDER BY seq`,
      [runId, taken.name, taken.sentAt],
    );
    const signal = signals.find((x) => sameData(x.data, taken.data));
    if (signal === undefined) return [];
    await query(c, `UPDATE ${this.S}.signals SET consumed = false WHERE run_id = $1 AND seq = $2`, [
      runId,
      signal.seq,
    ]);
    const [open] = await query<{ position: number }>(
      c,
      `SELECT position FROM ${this.S}.waits WHERE run_id = $1 AND kind = 'signal' AND target = $2
         AND status = 'open' ORDER BY position LIMIT 1`,
      [runId, taken.name],
    );
    if (open === undefined || !(await this.takeSignal(c, runId, open.position, taken.name, now)))
      return [];
    return [{ runId, position: open.position }];
  }

  async cancelAll(c: pg.ClientBase, runId: string, now: number): Promise<void> {
    const ended = await query<{ kind: string; target: string }>(
      c,
      `UPDATE ${this.S}.waits SET status = 'cancelled', ended_at = $2
       WHERE run_id = $1 AND status = 'open' RETURNING kind, target`,
      [runId, now],
    );
    for (const w of ended) {
      if (w.kind === "child") await this.cancelChild(c, w.target, stoppedWaiting(runId, null), now);
    }
  }

  async listApprovals(
    c: pg.ClientBase,
    limit: number,
    runId: string | null,
  ): Promise<ApprovalRecord[]> {
    const rows = await query<WaitRow & { workflow: string }>(
      c,
      `SELECT ${WAIT_COLUMNS.split(", ")
        .map((col) => `w.${col}`)
        .join(", ")}, r.workflow FROM ${this.S}.waits w JOIN ${this.S}.runs r ON r.id = w.run_id
       WHERE w.kind = 'approval' AND w.status = 'open' AND ($2::text IS NULL OR w.run_id = $2)
       ORDER BY w.created_at LIMIT $1`,
      [limit, runId],
    );
    const records: ApprovalRecord[] = [];
    for (const row of rows) {
      records.push({
        wait: toWait(row),
        workflow: row.workflow,
        decisions: await this.decisionsOf(c, row.run_id, row.position),
      });
    }
    return records;
  }

  async inbox(c: pg.ClientBase, runIds: readonly string[]): Promise<InboxItem[]> {
    const ended = await query<{ run_id: string; position: number }>(
      c,
      `SELECT w.run_id, w.position FROM ${this.S}.waits w
       WHERE w.run_id = ANY($1::text[]) AND w.status NOT IN ('open', 'cancelled')
         AND NOT EXISTS (SELECT 1 FROM ${this.S}.journal j WHERE j.run_id = w.run_id
                           AND j.position = w.position AND j.type = 'wait_completed')
       ORDER BY w.run_id, w.position`,
      [[...runIds]],
    );
    const items: InboxItem[] = ended.map((r) => ({
      kind: "wait_ended",
      runId: r.run_id,
      position: r.position,
    }));
    const cancels = await query<{ id: string; cancel_requested: string }>(
      c,
      `SELECT id, cancel_requested FROM ${this.S}.runs
       WHERE id = ANY($1::text[]) AND cancel_requested IS NOT NULL ORDER BY id`,
      [[...runIds]],
    );
    for (const r of cancels) {
      items.push({
        kind: "cancel_requested",
        runId: r.id,
        cancellation: JSON.parse(r.cancel_requested) as {
          reason: string;
          kind: "cancelled" | "timed_out";
        },
      });
    }
    return items;
  }

  // ---- internals ------------------------------------------------------------------------

  /** Takes the first event since the run began that meets the wait, if any. */
  private async takeEvent(
    c: pg.ClientBase,
    runId: string,
    position: number,
    name: string,
    paths: string,
    key: string,
    now: number,
  ): Promise<boolean> {
    const events = await query<EventRow>(
      c,
      `SELECT pos, id, name, data, received_at FROM ${this.S}.events
       WHERE name = $2 AND pos > (SELECT event_cursor FROM ${this.S}.runs WHERE id = $1)
         AND pos NOT IN (SELECT event_pos FROM ${this.S}.consumed_events WHERE run_id = $1)
       ORDER BY pos`,
      [runId, name],
    );
    const pathList = JSON.parse(paths) as string[];
    const found = events.find(
      (e) =>
        matchKeyOf({ id: e.id, name: e.name, data: this.payloads.eventData(e.data) }, pathList) ===
        key,
    );
    if (found === undefined) return false;
    await query(c, `INSERT INTO ${this.S}.consumed_events (run_id, event_pos) VALUES ($1, $2)`, [
      runId,
      found.pos,
    ]);
    const value = encodeReceivedEvent(found.id, found.name, found.data, found.received_at);
    await this.end(c, runId, position, "satisfied", value, now);
    return true;
  }

  private async takeSignal(
    c: pg.ClientBase,
    runId: string,
    position: number,
    name: string,
    now: number,
  ): Promise<boolean> {
    const [signal] = await query<{ seq: number; name: string; data: string; sent_at: number }>(
      c,
      `SELECT seq, name, data, sent_at FROM ${this.S}.signals
       WHERE run_id = $1 AND name = $2 AND NOT consumed ORDER BY seq LIMIT 1`,
      [runId, name],
    );
    if (signal === undefined) return false;
    await query(c, `UPDATE ${this.S}.signals SET consumed = true WHERE run_id = $1 AND seq = $2`, [
      runId,
      signal.seq,
    ]);
    const value = encodeReceivedSignal(signal.name, signal.data, signal.sent_at);
    await this.end(c, runId, position, "satisfied", value, now);
    return true;
  }

  private async end(
    c: pg.ClientBase,
    runId: string,
    position: number,
    status: WaitRecord["status"],
    value: string | null,
    now: number,
  ): Promise<void> {
    await query(
      c,
      `UPDATE ${this.S}.waits SET status = $3, value = $4, ended_at = $5
       WHERE run_id = $1 AND position = $2 AND status = 'open'`,
      [runId, position, status, value, now],
    );
  }

  private async wake(c: pg.ClientBase, runId: string): Promise<void> {
    await query(
      c,
      `UPDATE ${this.S}.runs SET status = 'pending', wake_at = NULL
       WHERE id = $1 AND status = 'waiting'`,
      [runId],
    );
  }

  private async decisionsOf(
    c: pg.ClientBase,
    runId: string,
    position: number,
  ): Promise<RecordedDecision[]> {
    return query<RecordedDecision>(
      c,
      `SELECT "by", approved, comment, role, at FROM ${this.S}.decisions
       WHERE run_id = $1 AND position = $2 ORDER BY at, "by"`,
      [runId, position],
    );
  }
}
