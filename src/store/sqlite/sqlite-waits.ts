// Waits on SQLite: events, signals and approvals, each ended in the transaction that decides
// it, so that a delivery and the wait's state never disagree. Called inside write transactions.
import type Database from "better-sqlite3";
import { refusalOf, verdictOf, type RecordedDecision } from "../../core/approval-rules.js";
import { matchKeyOf } from "../../core/match.js";
import type { WaitClosure, WaitRequest } from "../../core/run-port.js";
import {
  encodeApprovalResult,
  encodeChildRefusal,
  encodeReceivedEvent,
  encodeReceivedSignal,
} from "../../core/wait-values.js";
import type { Cancellation } from "../../core/types.js";
import type {
  ApprovalRecord,
  DecideResult,
  DecisionInput,
  EventInput,
  InboxItem,
  SendEventResult,
  WaitRecord,
  WaitRef,
} from "../store.js";
import {
  toEvent,
  type StorePayloads,
  toWait,
  WAIT_COLUMNS,
  type EventRow,
  type WaitRow,
} from "../sql-rows.js";
import { sameData, withdrawnValue } from "../withdrawn.js";
import { childOutcomeOf, stoppedWaiting } from "../children.js";
import { LAST_EVENT_POS, RUN_ROWS } from "./statements.js";

/** Statuses a run ends with, as SQL. */
const ENDED = "('completed', 'failed', 'cancelled', 'timed_out')";

/** Most parents followed up from a run when a child wait is refused (a guard: parent links
 * are made at creation, to runs that exist, so they never loop). */
const ANCESTRY_WALK_MAX = 10_000;

/** The statements and operations on waits of one connection. */
export type SqliteWaits = ReturnType<typeof createSqliteWaits>;

/** Prepares the statements; every operation must run inside a write transaction. */
export function createSqliteWaits(db: Database.Database, payloads: StorePayloads) {
  const st = {
    insertWait: db.prepare(
      `INSERT INTO waits (run_id, position, key, kind, target, match_paths, match_key, timeout_at, details, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
    ),
    getWait: db.prepare(`SELECT ${WAIT_COLUMNS} FROM waits WHERE run_id = ? AND position = ?`),
    endWait: db.prepare(
      "UPDATE waits SET status = ?, value = ?, ended_at = ? WHERE run_id = ? AND position = ? AND status = 'open'",
    ),
    eventById: db.prepare("SELECT pos, id, name, data, received_at FROM events WHERE id = ?"),
    insertEvent: db.prepare(
      `INSERT INTO events (pos, id, name, data, received_at) VALUES ((SELECT ${LAST_EVENT_POS} + 1), ?, ?, ?, ?)`,
    ),
    eventsSince: db.prepare(
      `SELECT pos, id, name, data, received_at FROM events
       WHERE name = @name AND pos > (SELECT event_cursor FROM runs WHERE id = @runId)
         AND pos NOT IN (SELECT event_pos FROM consumed_events WHERE run_id = @runId)
       ORDER BY pos`,
    ),
    consume: db.prepare("INSERT INTO consumed_events (run_id, event_pos) VALUES (?, ?)"),
    // The next match shape after `?` among the open waits of a name: shapes are read one
    // index seek each, however many waits are open.
    nextShape: db.prepare(
      `SELECT match_paths FROM waits WHERE kind = 'event' AND target = ? AND status = 'open'
         AND match_paths > ? ORDER BY match_paths LIMIT 1`,
    ),
    openMatching: db.prepare(
      `SELECT run_id, position FROM waits WHERE kind = 'event' AND target = ? AND status = 'open'
         AND match_paths = ? AND match_key = ? ORDER BY run_id, position`,
    ),
    wake: db.prepare(
      "UPDATE runs SET status = 'pending', wake_at = NULL WHERE id = ? AND status = 'waiting'",
    ),
    lastSignal: db.prepare("SELECT coalesce(max(seq), 0) AS s FROM signals WHERE run_id = ?"),
    insertSignal: db.prepare(
      "INSERT INTO signals (run_id, seq, name, data, sent_at) VALUES (?, ?, ?, ?, ?)",
    ),
    firstUnread: db.prepare(
      "SELECT seq, name, data, sent_at FROM signals WHERE run_id = ? AND name = ? AND consumed = 0 ORDER BY seq LIMIT 1",
    ),
    markRead: db.prepare("UPDATE signals SET consumed = 1 WHERE run_id = ? AND seq = ?"),
    openSignalWait: db.prepare(
      "SELECT position FROM waits WHERE run_id = ? AND kind = 'signal' AND target = ? AND status = 'open' ORDER BY position LIMIT 1",
    ),
    approvalByName: db.prepare(
      `SELECT ${WAIT_COLUMNS} FROM waits WHERE run_id = ? AND kind = 'approval' AND target = ?
       ORDER BY status = 'open' DESC, position DESC LIMIT 1`,
    ),
    decisions: db.prepare(
      "SELECT by, approved, comment, role, at FROM decisions WHERE run_id = ? AND position = ? ORDER BY at, by",
    ),
    insertDecision: db.prepare(
      "INSERT INTO decisions (run_id, position, by, approved, comment, role, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    addApprovers: db.prepare(
      "UPDATE waits SET added_approvers = ? WHERE run_id = ? AND position = ? AND status = 'open'",
    ),
    cancelWaits: db.prepare(
      "UPDATE waits SET status = 'cancelled', ended_at = ? WHERE run_id = ? AND status = 'open'",
    ),
    withdraw: db.prepare(
      "UPDATE waits SET status = 'cancelled', value = NULL, ended_at = ? WHERE run_id = ? AND position = ?",
    ),
    journaledEnd: db.prepare(
      `SELECT 1 FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = ? AND j.position = ?
         AND j.type = 'wait_completed' LIMIT 1`,
    ),
    unconsume: db.prepare("DELETE FROM consumed_events WHERE run_id = ? AND event_pos = ?"),
    openEventWaits: db.prepare(
      `SELECT position, target, match_paths, match_key FROM waits
       WHERE run_id = ? AND kind = 'event' AND target = ? AND status = 'open' ORDER BY position`,
    ),
    readSignal: db.prepare(
      `SELECT seq, data FROM signals WHERE run_id = ? AND name = ? AND sent_at = ?
         AND consumed = 1 ORDER BY seq`,
    ),
    markUnread: db.prepare("UPDATE signals SET consumed = 0 WHERE run_id = ? AND seq = ?"),
    openApprovals: db.prepare(
      `SELECT ${WAIT_COLUMNS.split(", ")
        .map((c) => `w.${c}`)
        .join(", ")}, r.workflow FROM waits w JOIN runs r ON r.id = w.run_id
       WHERE w.kind = 'approval' AND w.status = 'open' AND (@runId IS NULL OR w.run_id = @runId)
       ORDER BY w.created_at LIMIT @limit`,
    ),
    endedUnjournaled: db.prepare(
      `SELECT w.run_id, w.position FROM waits w WHERE w.run_id IN (SELECT value FROM json_each(?))
         AND w.status NOT IN ('open', 'cancelled')
         AND NOT EXISTS (SELECT 1 FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = w.run_id AND j.position = w.position AND j.type = 'wait_completed')`,
    ),
    hasUndelivered: db.prepare(
      `SELECT 1 FROM waits w WHERE w.run_id = ? AND w.status NOT IN ('open', 'cancelled')
         AND NOT EXISTS (SELECT 1 FROM runs r JOIN journal j ON ${RUN_ROWS} WHERE r.id = w.run_id AND j.position = w.position AND j.type = 'wait_completed')
       LIMIT 1`,
    ),
    childRow: db.prepare("SELECT parent_id, status, output, error FROM runs WHERE id = ?"),
    parentOf: db.prepare("SELECT parent_id FROM runs WHERE id = ?"),
    openChildWaits: db.prepare(
      "SELECT position FROM waits WHERE run_id = ? AND kind = 'child' AND target = ? AND status = 'open'",
    ),
    openChildTargets: db.prepare(
      "SELECT target FROM waits WHERE run_id = ? AND kind = 'child' AND status = 'open'",
    ),
    cancelChild: db.prepare(
      `UPDATE runs SET cancel_requested = coalesce(cancel_requested, @why), updated_at = @now,
         status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE id = @id AND detached = 0 AND status NOT IN ${ENDED}`,
    ),
    cancelChildrenOf: db.prepare(
      `UPDATE runs SET cancel_requested = coalesce(cancel_requested, @why), updated_at = @now,
         status = CASE status WHEN 'waiting' THEN 'pending' ELSE status END,
         wake_at = CASE status WHEN 'waiting' THEN NULL ELSE wake_at END
       WHERE parent_id = @id AND detached = 0 AND status NOT IN ${ENDED} RETURNING id`,
    ),
    cancelRequests: db.prepare(
      "SELECT id, cancel_requested FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested IS NOT NULL",
    ),
  };

  const getWait = (runId: string, position: number): WaitRecord | null => {
    const row = st.getWait.get(runId, position) as WaitRow | undefined;
    return row === undefined ? null : toWait(row);
  };

  const decisionsOf = (runId: string, position: number): RecordedDecision[] =>
    (
      st.decisions.all(runId, position) as Array<{
        by: string;
        approved: number;
        comment: string | null;
        role: string | null;
        at: number;
      }>
    ).map((d) => ({ ...d, approved: d.approved === 1 }));

  const end = (
    runId: string,
    position: number,
    status: WaitRecord["status"],
    value: string | null,
    now: number,
  ): void => {
    st.endWait.run(status, value, now, runId, position);
  };

  /** The distinct match shapes of the open event waits for `name`. */
  const shapesOf = (name: string): string[] => {
    const shapes: string[] = [];
    for (;;) {
      const next = st.nextShape.get(name, shapes.at(-1) ?? "") as
        { match_paths: string } | undefined;
      if (next === undefined) return shapes;
      shapes.push(next.match_paths);
    }
  };

  const takeEvent = (
    runId: string,
    wait: { position: number; target: string; match_paths: string; match_key: string },
    now: number,
  ): boolean => {
    const paths = JSON.parse(wait.match_paths) as string[];
    let found: EventRow | null = null;
    const events = st.eventsSince.iterate({
      runId,
      name: wait.target,
    }) as IterableIterator<EventRow>;
    for (const e of events) {
      const subject = { id: e.id, name: e.name, data: payloads.eventData(e.data) };
      if (matchKeyOf(subject, paths) !== wait.match_key) continue;
      found = e;
      break;
    }
    // Written after the scan: a connection runs no statement while another iterates.
    if (found === null) return false;
    st.consume.run(runId, found.pos);
    const value = encodeReceivedEvent(found.id, found.name, found.data, found.received_at);
    end(runId, wait.position, "satisfied", value, now);
    return true;
  };

  const takeSignal = (runId: string, position: number, name: string, now: number): boolean => {
    const signal = st.firstUnread.get(runId, name) as
      { seq: number; name: string; data: string; sent_at: number } | undefined;
    if (signal === undefined) return false;
    st.markRead.run(runId, signal.seq);
    end(
      runId,
      position,
      "satisfied",
      encodeReceivedSignal(signal.name, signal.data, signal.sent_at),
      now,
    );
    return true;
  };

  /** Ends the child wait `position` of `runId` at once if its child ended, or refuses it. */
  const takeChild = (runId: string, position: number, childId: string, now: number): void => {
    const child = st.childRow.get(childId) as
      | { parent_id: string | null; status: string; output: string | null; error: string | null }
      | undefined;
    if (child !== undefined && child.parent_id === runId) {
      const value = childOutcomeOf(child.status, child.output, child.error);
      if (value !== null) end(runId, position, "satisfied", value, now);
      return;
    }
    end(runId, position, "satisfied", refusalOf_(runId, childId), now);
  };

  /** Why `runId` may not wait for `childId`: a cycle through its ancestors, or another's run. */
  const refusalOf_ = (runId: string, childId: string): string => {
    let at: string | null = runId;
    for (let i = 0; at !== null && i < ANCESTRY_WALK_MAX; i++) {
      if (at === childId) {
        return encodeChildRefusal(
          "cycle",
          `run ${runId} cannot wait for run '${childId}', which is itself or one of its ` +
            "ancestors: it would wait on itself. Give the child an id of its own",
        );
      }
      at = (st.parentOf.get(at) as { parent_id: string | null } | undefined)?.parent_id ?? null;
    }
    return encodeChildRefusal(
      "conflict",
      `run ${runId} cannot start child run '${childId}': a run with that id exists and is not ` +
        "its child. Give the child another id (or leave the id out to derive one)",
    );
  };

  const cancelChild = (childId: string, why: string, now: number): void => {
    st.cancelChild.run({ id: childId, why, now });
  };

  return {
    getWait,

    /**
     * A child run ended (its last write, in this transaction): its parent's open waits for it
     * end with its outcome, and the parent becomes runnable. Returns the ended waits.
     */
    childEnded(childId: string, now: number): WaitRef[] {
      const row = st.childRow.get(childId) as
        | { parent_id: string | null; status: string; output: string | null; error: string | null }
        | undefined;
      if (row?.parent_id === null || row === undefined) return [];
      const value = childOutcomeOf(row.status, row.output, row.error);
      if (value === null) return [];
      const parent = row.parent_id;
      const open = st.openChildWaits.all(parent, childId) as Array<{ position: number }>;
      for (const w of open) end(parent, w.position, "satisfied", value, now);
      if (open.length > 0) st.wake.run(parent);
      return open.map((w) => ({ runId: parent, position: w.position }));
    },

    /** Asks the live, attached children of `parentId` to cancel; returns their ids. */
    cancelChildren(parentId: string, cancellation: Cancellation, now: number): string[] {
      const why = JSON.stringify(cancellation);
      return (st.cancelChildrenOf.all({ id: parentId, why, now }) as Array<{ id: string }>).map(
        (r) => r.id,
      );
    },

    /** Creates waits written by a run, ending at once those an earlier event or signal meets. */
    create(runId: string, waits: readonly WaitRequest[], now: number): void {
      for (const w of waits) {
        const paths = JSON.stringify(w.match?.paths ?? []);
        const key = w.match?.key ?? "[]";
        st.insertWait.run(
          runId,
          w.position,
          w.key,
          w.kind,
          w.target,
          paths,
          key,
          w.timeoutAt,
          w.details,
          now,
        );
        if (w.kind === "event")
          takeEvent(
            runId,
            { position: w.position, target: w.target, match_paths: paths, match_key: key },
            now,
          );
        else if (w.kind === "signal") takeSignal(runId, w.position, w.target, now);
        else if (w.kind === "child") takeChild(runId, w.position, w.target, now);
      }
    },

    sendEvent(event: EventInput, now: number): SendEventResult {
      const existing = st.eventById.get(event.id) as EventRow | undefined;
      if (existing !== undefined) return { created: false, event: toEvent(existing), woken: [] };
      const pos = Number(st.insertEvent.run(event.id, event.name, event.data, now).lastInsertRowid);
      const subject = { id: event.id, name: event.name, data: payloads.eventData(event.data) };
      const earliest = new Map<string, number>();
      for (const match_paths of shapesOf(event.name)) {
        const key = matchKeyOf(subject, JSON.parse(match_paths) as string[]);
        if (key === null) continue;
        for (const row of st.openMatching.all(event.name, match_paths, key) as Array<{
          run_id: string;
          position: number;
        }>) {
          const seen = earliest.get(row.run_id);
          if (seen === undefined || row.position < seen) earliest.set(row.run_id, row.position);
        }
      }
      const value = encodeReceivedEvent(event.id, event.name, event.data, now);
      const woken: WaitRef[] = [];
      for (const [runId, position] of earliest) {
        st.consume.run(runId, pos);
        end(runId, position, "satisfied", value, now);
        st.wake.run(runId);
        woken.push({ runId, position });
      }
      return { created: true, event: { ...event, receivedAt: now, pos }, woken };
    },

    /** Buffers a signal, or ends the run's earliest open wait for it. The run exists and runs. */
    sendSignal(runId: string, signal: { name: string; data: string }, now: number): WaitRef[] {
      const seq = (st.lastSignal.get(runId) as { s: number }).s + 1;
      st.insertSignal.run(runId, seq, signal.name, signal.data, now);
      const open = st.openSignalWait.get(runId, signal.name) as { position: number } | undefined;
      if (open === undefined || !takeSignal(runId, open.position, signal.name, now)) return [];
      st.wake.run(runId);
      return [{ runId, position: open.position }];
    },

    decide(runId: string, name: string, decision: DecisionInput, now: number): DecideResult {
      const row = st.approvalByName.get(runId, name) as WaitRow | undefined;
      if (row === undefined) return { kind: "not_found" };
      const wait = toWait(row);
      if (wait.status !== "open") return { kind: "already_ended", wait };
      const rules = payloads.rulesOf(wait);
      const decisions = decisionsOf(runId, wait.position);
      const refusal = refusalOf(rules, decisions, decision.by, decision.role);
      if (refusal !== null) return { kind: "refused", reason: refusal, wait };
      st.insertDecision.run(
        runId,
        wait.position,
        decision.by,
        decision.approved ? 1 : 0,
        decision.comment,
        decision.role,
        now,
      );
      const all = [...decisions, { ...decision, at: now }];
      const verdict = verdictOf(rules, all);
      if (verdict === null) return { kind: "recorded", wait };
      end(runId, wait.position, "satisfied", encodeApprovalResult(verdict, all, now), now);
      st.wake.run(runId);
      return { kind: "settled", wait: getWait(runId, wait.position) as WaitRecord };
    },

    close(runId: string, position: number, closure: WaitClosure, now: number): WaitRecord | null {
      const wait = getWait(runId, position);
      if (wait === null || wait.status !== "open") return wait;
      let value: string | null = null;
      if (wait.kind === "approval" && closure.status !== "cancelled") {
        const decisions = decisionsOf(runId, position);
        value =
          closure.status === "timed_out"
            ? encodeApprovalResult("timed_out", decisions, now)
            : encodeApprovalResult("resolved", decisions, now, closure.approved ?? false);
      } else if (closure.status === "resolved") {
        value = closure.value;
      }
      end(runId, position, closure.status, value, now);
      if (wait.kind === "child") cancelChild(wait.target, stoppedWaiting(runId, wait.key), now);
      return getWait(runId, position);
    },

    addApprovers(runId: string, position: number, approvers: readonly string[]): void {
      const wait = getWait(runId, position);
      if (wait === null || wait.status !== "open") return;
      const merged = [...new Set([...wait.addedApprovers, ...approvers])];
      st.addApprovers.run(JSON.stringify(merged), runId, position);
    },

    /**
     * Withdraws a wait the run no longer wants (it lost a race): it ends as cancelled, and an
     * event or signal it had taken, unjournaled, goes back to the run for the next wait that
     * matches it, which takes it at once if it is already open. A wait whose end the run
     * journaled stays as it ended.
     */
    withdraw(runId: string, position: number, now: number): WaitRef[] {
      const wait = getWait(runId, position);
      if (wait === null || wait.status === "cancelled") return [];
      if (wait.status !== "open" && st.journaledEnd.get(runId, position) !== undefined) return [];
      st.withdraw.run(now, runId, position);
      if (wait.kind === "child") cancelChild(wait.target, stoppedWaiting(runId, wait.key), now);
      if (wait.status !== "satisfied" || wait.value === null) return [];
      const taken = withdrawnValue(wait.kind, wait.value);
      if (taken === null) return [];
      if (taken.kind === "event") {
        const row = st.eventById.get(taken.id) as EventRow | undefined;
        if (row === undefined) return [];
        st.unconsume.run(runId, row.pos);
        for (const w of st.openEventWaits.all(runId, row.name) as Array<{
          position: number;
          target: string;
          match_paths: string;
          match_key: string;
        }>) {
          if (takeEvent(runId, w, now)) return [{ runId, position: w.position }];
        }
        return [];
      }
      const seq = (
        st.readSignal.all(runId, taken.name, taken.sentAt) as Array<{ seq: number; data: string }>
      ).find((s) => sameData(s.data, taken.data));
      if (seq === undefined) return [];
      st.markUnread.run(runId, seq.seq);
      const open = st.openSignalWait.get(runId, taken.name) as { position: number } | undefined;
      if (open === undefined || !takeSignal(runId, open.position, taken.name, now)) return [];
      return [{ runId, position: open.position }];
    },

    cancelAll(runId: string, now: number): void {
      const children = st.openChildTargets.all(runId) as Array<{ target: string }>;
      st.cancelWaits.run(now, runId);
      for (const c of children) cancelChild(c.target, stoppedWaiting(runId, null), now);
    },

    listApprovals(limit: number, runId: string | null): ApprovalRecord[] {
      const rows = st.openApprovals.all({ limit, runId }) as Array<WaitRow & { workflow: string }>;
      return rows.map((row) => ({
        wait: toWait(row),
        workflow: row.workflow,
        decisions: decisionsOf(row.run_id, row.position),
      }));
    },

    inbox(runIds: readonly string[]): InboxItem[] {
      const ids = JSON.stringify(runIds);
      const items: InboxItem[] = (
        st.endedUnjournaled.all(ids) as Array<{ run_id: string; position: number }>
      ).map((r) => ({ kind: "wait_ended", runId: r.run_id, position: r.position }));
      for (const r of st.cancelRequests.all(ids) as Array<{
        id: string;
        cancel_requested: string;
      }>) {
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
    },

    /** True when a wait of the run ended and the run has not journaled it yet. */
    hasUndelivered(runId: string): boolean {
      return st.hasUndelivered.get(runId) !== undefined;
    },
  };
}
