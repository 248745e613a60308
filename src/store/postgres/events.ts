// Events on PostgreSQL: stored and delivered to the waits they match in the transaction that
// stores them, with no lock shared by unrelated events. What must meet meets under one lock:
//
// - an event and an event wait of the same name, match shape and key lock that key
//   (exclusively), so whichever commits second sees the first: no lost wake-up, and the
//   events of one key are numbered (by the `event_pos` sequence, taken under the key's lock)
//   and delivered in the order they commit;
// - the shapes of a name (which keys an event must lock) change only under the name's lock
//   taken exclusively, by the first wait of a new shape; events take it shared, so they do not
//   wait for each other;
// - an event id is locked while it is stored: the same id sent twice at once is stored once.
//
// Lock order, everywhere: event names, then keys and ids (each group by hash), then runs by id.
import type pg from "pg";
import { matchKeyOf } from "../../core/match.js";
import type { WaitRequest } from "../../core/run-port.js";
import { encodeReceivedEvent } from "../../core/wait-values.js";
import type { EventInput, SendEventResult, StoreWake, WaitRef } from "../store.js";
import { toEvent, type EventRow, type StorePayloads } from "../sql-rows.js";
import { WAKE_WORKFLOWS_MAX } from "./commit.js";
import { query } from "./connection.js";
import { BEGIN_BOUNDED } from "./settings.js";

/** The lock of an event name: shared by events, exclusive for a new match shape. */
export function eventNameLock(schema: string, name: string): string {
  return `endure-event:${schema}:${name}`;
}

/** The lock of one correlation key: an event name, a match shape and the key it makes. */
export function eventKeyLock(schema: string, name: string, paths: string, key: string): string {
  return JSON.stringify(["endure-event-key", schema, name, paths, key]);
}

function eventIdLock(schema: string, id: string): string {
  return JSON.stringify(["endure-event-id", schema, id]);
}

/** The match shapes (paths as JSON) known to be registered in `event_shapes`, by name. Shapes
 * are only ever added, so a shape once seen stays true. */
export class ShapeCache {
  private readonly known = new Map<string, Set<string>>();

  of(name: string): readonly string[] {
    return [...(this.known.get(name) ?? [])];
  }

  has(name: string, paths: string): boolean {
    return this.known.get(name)?.has(paths) ?? false;
  }

  /** Adds shapes; true when one was new. */
  add(name: string, paths: Iterable<string>): boolean {
    let set = this.known.get(name);
    if (set === undefined) this.known.set(name, (set = new Set()));
    let added = false;
    for (const p of paths) {
      if (set.has(p)) continue;
      set.add(p);
      added = true;
    }
    return added;
  }
}

/**
 * SQL taking transaction-scoped advisory locks on `keys` (quoted by `lit`), in the order of
 * their hashes; those in `exclusive` exclusively, the others shared. Null when there are none.
 */
function lockStatement(
  lit: (text: string) => string,
  keys: Iterable<string>,
  exclusive: (key: string) => boolean,
): string | null {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return null;
  const modes = unique.map((k) => (exclusive(k) ? "true" : "false"));
  return `SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                      ELSE pg_advisory_xact_lock_shared(h) END)
     FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x
           FROM unnest(ARRAY[${unique.map(lit).join(", ")}]::text[],
                       ARRAY[${modes.join(", ")}]::boolean[]) AS t(k, x)
           GROUP BY 1 ORDER BY 1) AS sorted`;
}

/**
 * Locks the names and keys of event waits about to be created by a commit (on `c`, inside its
 * transaction, before the commit locks its runs). Returns the shapes it registered: the
 * caller adds them to `shapes` once the transaction committed.
 */
export async function lockEventWaits(
  c: pg.ClientBase,
  S: string,
  schema: string,
  shapes: ShapeCache,
  waits: readonly WaitRequest[],
): Promise<Array<{ name: string; paths: string }>> {
  const events = waits
    .filter((w) => w.kind === "event")
    .map((w) => ({
      name: w.target,
      paths: JSON.stringify(w.match?.paths ?? []),
      key: w.match?.key ?? "[]",
    }));
  if (events.length === 0) return [];
  const fresh = new Map<string, { name: string; paths: string }>();
  for (const e of events) {
    if (!shapes.has(e.name, e.paths)) fresh.set(JSON.stringify([e.name, e.paths]), e);
  }
  const exclusive = new Set([...fresh.values()].map((f) => eventNameLock(schema, f.name)));
  const lit = (text: string): string => c.escapeLiteral(text);
  const statements = [
    // Every name in one statement, each shared or (for a new shape) exclusive.
    lockStatement(
      lit,
      events.map((e) => eventNameLock(schema, e.name)),
      (k) => exclusive.has(k),
    ),
    lockStatement(
      lit,
      events.map((e) => eventKeyLock(schema, e.name, e.paths, e.key)),
      () => true,
    ),
  ];
  await c.query(statements.filter((s) => s !== null).join(";\n"));
  if (fresh.size > 0) {
    const list = [...fresh.values()];
    await query(
      c,
      `INSERT INTO ${S}.event_shapes (name, paths)
       SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
      [list.map((f) => f.name), list.map((f) => f.paths)],
    );
  }
  return [...fresh.values()];
}

interface OpenWaitRow {
  run_id: string;
  position: number;
  target: string;
  match_paths: string;
  match_key: string;
  status: string;
  owner: string | null;
  workflow: string;
}

/** What one event of a batch does: its keys, and whether it is stored by this batch. */
interface Planned {
  readonly event: EventInput;
  readonly now: number;
  /** Its match key for each shape of its name (shapes it has no key for are left out). */
  readonly keys: Map<string, string>;
  /** Stored before (or earlier in this batch): nothing is delivered. */
  existing: EventRow | null;
  /** Earlier in this batch with the same id. */
  duplicateOf: number | null;
}

/** A shape changed while the batch locked its keys: it starts again with the new shapes. */
const SHAPES_CHANGED = Symbol("shapes changed");

/**
 * The statements of event batches, prepared once per connection (SQL PREPARE, so that they
 * can be executed in one round trip with the statements around them).
 */
export class EventStatements {
  private readonly ready = new WeakSet<pg.ClientBase>();
  private readonly p: string;

  constructor(
    private readonly S: string,
    schema: string,
  ) {
    this.p = `endure_ev_${schema}`;
  }

  /** The prefix of the statements' names. */
  get prefix(): string {
    return this.p;
  }

  async prepare(c: pg.ClientBase): Promise<void> {
    if (this.ready.has(c)) return;
    const { S, p } = this;
    const matching = `${S}.waits w JOIN unnest($1, $2, $3) AS m(name, paths, key)
         ON w.target = m.name AND w.match_paths = m.paths AND w.match_key = m.key`;
    const isOpen = `w.kind = 'event' AND w.status = 'open'`;
    await c.query(
      [
        // Advisory locks, group by group ($3), by hash order within each; those marked true
        // exclusive, the others shared.
        `PREPARE ${p}_lock(text[], boolean[], int[]) AS
         SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                      ELSE pg_advisory_xact_lock_shared(h) END)
         FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x, min(g) AS g
               FROM unnest($1, $2, $3) AS t(k, x, g) GROUP BY 1 ORDER BY 3, 1) AS sorted`,
        `PREPARE ${p}_read(text[], text[]) AS
         SELECT (SELECT json_agg(e) FROM (SELECT pos, id, name, data, received_at
                   FROM ${S}.events WHERE id = ANY($1)) AS e) AS existing,
                (SELECT json_agg(s) FROM (SELECT name, paths
                   FROM ${S}.event_shapes WHERE name = ANY($2)) AS s) AS shapes`,
        // The runs first, then their open waits read afresh: one may have ended meanwhile.
        `PREPARE ${p}_runs(text[], text[], text[]) AS
         SELECT count(*) FROM (SELECT r.id FROM ${S}.runs r
           WHERE r.id IN (SELECT w.run_id FROM ${matching} WHERE ${isOpen})
           ORDER BY r.id FOR UPDATE) AS locked`,
        `PREPARE ${p}_waits(text[], text[], text[]) AS
         SELECT w.run_id, w.position, w.target, w.match_paths, w.match_key, r.status, r.owner,
           r.workflow
         FROM ${matching} JOIN ${S}.runs r ON r.id = w.run_id
         WHERE ${isOpen} ORDER BY w.run_id, w.position`,
        `PREPARE ${p}_write(text[], text[], text[], bigint[], text[], int[], text[], text[],
                            bigint[], text[], text, text) AS
         WITH ev AS (
           SELECT * FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS ev(id, name, data, at, ord)
         ),
         stored AS (
           INSERT INTO ${S}.events (pos, id, name, data, received_at)
           SELECT nextval('${S}.event_pos'), id, name, data, at FROM ev ORDER BY ord
           RETURNING id, pos
         ),
         d AS (
           SELECT * FROM unnest($5, $6, $7, $8, $9) AS d(run_id, position, event_id, value, at)
         ),
         consumed AS (
           INSERT INTO ${S}.consumed_events (run_id, event_pos)
           SELECT d.run_id, s.pos FROM d JOIN stored s ON s.id = d.event_id
         ),
         ended AS (
           UPDATE ${S}.waits w SET status = 'satisfied', value = d.value, ended_at = d.at
           FROM d WHERE w.run_id = d.run_id AND w.position = d.position AND w.status = 'open'
         ),
         runnable AS (
           UPDATE ${S}.runs r SET status = 'pending', wake_at = NULL
           WHERE r.id = ANY($10) AND r.status = 'waiting'
         ),
         notified AS (SELECT pg_notify($11, $12) WHERE $12 IS NOT NULL)
         SELECT (SELECT json_agg(json_build_array(id, pos)) FROM stored) AS stored,
                (SELECT count(*) FROM notified) AS notified`,
      ].join(";\n"),
    );
    this.ready.add(c);
  }
}

/**
 * Stores `events` (in this order) in one transaction on `c` and delivers each to the earliest
 * open matching wait of each run it meets; wakes the workers concerned. Two round trips: the
 * locks and reads, then the one statement that writes with the commit.
 */
export async function sendEvents(
  c: pg.ClientBase,
  statements: EventStatements,
  schema: string,
  shapes: ShapeCache,
  channel: string,
  events: ReadonlyArray<{ event: EventInput; now: number }>,
  payloads: StorePayloads,
): Promise<SendEventResult[]> {
  await statements.prepare(c);
  for (let attempt = 0; ; attempt++) {
    const result = await attemptBatch(
      c,
      statements.prefix,
      schema,
      shapes,
      channel,
      events,
      payloads,
    );
    if (result !== SHAPES_CHANGED) return result;
    // Shapes only grow, and each new one is added before trying again.
    if (attempt > 100) throw new Error("the match shapes of events kept changing");
  }
}

async function attemptBatch(
  c: pg.ClientBase,
  p: string,
  schema: string,
  shapes: ShapeCache,
  channel: string,
  events: ReadonlyArray<{ event: EventInput; now: number }>,
  payloads: StorePayloads,
): Promise<SendEventResult[] | typeof SHAPES_CHANGED> {
  const lit = (text: string | null): string => (text === null ? "NULL" : c.escapeLiteral(text));
  const texts = (xs: ReadonlyArray<string | null>): string =>
    xs.length === 0 ? "'{}'::text[]" : `ARRAY[${xs.map(lit).join(", ")}]::text[]`;
  const numbers = (xs: readonly number[], type: string): string =>
    xs.length === 0
      ? `'{}'::${type}[]`
      : `ARRAY[${xs.map((x) => String(x)).join(", ")}]::${type}[]`;
  const bools = (xs: readonly boolean[]): string =>
    xs.length === 0 ? "'{}'::boolean[]" : `ARRAY[${xs.join(", ")}]::boolean[]`;
  // The shapes this attempt plans with: the cache may learn more while it waits for its
  // locks (a commit of this process registering one), and what counts is what was planned.
  const planShapes = new Map<string, readonly string[]>();
  for (const { event } of events) {
    if (!planShapes.has(event.name)) planShapes.set(event.name, shapes.of(event.name));
  }
  const planned: Planned[] = events.map(({ event, now }) => {
    const subject = { id: event.id, name: event.name, data: payloads.eventData(event.data) };
    const keys = new Map<string, string>();
    for (const shape of planShapes.get(event.name) ?? []) {
      const key = matchKeyOf(subject, JSON.parse(shape) as string[]);
      if (key !== null) keys.set(shape, key);
    }
    return { event, now, keys, existing: null, duplicateOf: null };
  });
  const names = [...new Set(planned.map((x) => x.event.name))];
  const triples = planned.flatMap((x) =>
    [...x.keys].map(([paths, key]) => ({ name: x.event.name, paths, key })),
  );
  const tripleArgs = `${texts(triples.map((t) => t.name))}, ${texts(triples.map((t) => t.paths))}, ${texts(triples.map((t) => t.key))}`;
  // The names shared, then the keys and ids exclusively.
  const locks = [
    ...names.map((n) => ({ key: eventNameLock(schema, n), exclusive: false, group: 1 })),
    ...triples.map((t) => ({
      key: eventKeyLock(schema, t.name, t.paths, t.key),
      exclusive: true,
      group: 2,
    })),
    ...planned.map((x) => ({ key: eventIdLock(schema, x.event.id), exclusive: true, group: 2 })),
  ];
  const opening = [
    BEGIN_BOUNDED,
    `EXECUTE ${p}_lock(${texts(locks.map((l) => l.key))}, ${bools(locks.map((l) => l.exclusive))}, ${numbers(
      locks.map((l) => l.group),
      "int",
    )})`,
    `EXECUTE ${p}_read(${texts(planned.map((x) => x.event.id))}, ${texts(names)})`,
    ...(triples.length > 0
      ? [`EXECUTE ${p}_runs(${tripleArgs})`, `EXECUTE ${p}_waits(${tripleArgs})`]
      : []),
  ];
  let ended = false;
  try {
    const list = (await c.query(opening.join(";\n"))) as unknown as pg.QueryResult[];
    const offset = list.length - (triples.length > 0 ? 3 : 1);
    const read = list[offset]?.rows[0] as
      | { existing: EventRow[] | null; shapes: Array<{ name: string; paths: string }> | null }
      | undefined;
    const existing = read?.existing ?? [];
    const known = read?.shapes ?? [];
    const open = triples.length > 0 ? (list[offset + 2]?.rows as OpenWaitRow[]) : [];
    let changed = false;
    for (const name of names) {
      const registered = known.filter((k) => k.name === name).map((k) => k.paths);
      shapes.add(name, registered);
      const plannedWith = new Set(planShapes.get(name));
      if (registered.some((paths) => !plannedWith.has(paths))) changed = true;
    }
    if (changed) {
      await c.query("ROLLBACK");
      ended = true;
      return SHAPES_CHANGED;
    }
    const stored = new Map(
      existing.map((e) => [e.id, { ...e, pos: Number(e.pos), received_at: Number(e.received_at) }]),
    );
    const firstOf = new Map<string, number>();
    planned.forEach((x, i) => {
      x.existing = stored.get(x.event.id) ?? null;
      const first = firstOf.get(x.event.id);
      if (first !== undefined) x.duplicateOf = first;
      else firstOf.set(x.event.id, i);
    });
    const plan = deliveries(planned, open);
    const wake = wakeOf(plan.runs);
    const fresh = planned.filter((x) => x.existing === null && x.duplicateOf === null);
    const write = `EXECUTE ${p}_write(${[
      texts(fresh.map((x) => x.event.id)),
      texts(fresh.map((x) => x.event.name)),
      texts(fresh.map((x) => x.event.data)),
      numbers(
        fresh.map((x) => x.now),
        "bigint",
      ),
      texts(plan.list.map((d) => d.runId)),
      numbers(
        plan.list.map((d) => d.position),
        "int",
      ),
      texts(plan.list.map((d) => d.eventId)),
      texts(plan.list.map((d) => d.value)),
      numbers(
        plan.list.map((d) => d.at),
        "bigint",
      ),
      texts([...plan.runs.values()].filter((r) => r.status === "waiting").map((r) => r.runId)),
      lit(channel),
      lit(wake === null ? null : JSON.stringify(wake)),
    ].join(", ")})`;
    const written = (await c.query(`${write};\nCOMMIT`)) as unknown as pg.QueryResult[];
    ended = true;
    const row = written[0]?.rows[0] as { stored: Array<[string, number]> | null } | undefined;
    const positions = new Map((row?.stored ?? []).map(([id, pos]) => [id, Number(pos)]));
    return planned.map((x, i): SendEventResult => {
      if (x.existing !== null) return { created: false, event: toEvent(x.existing), woken: [] };
      if (x.duplicateOf !== null) {
        const first = planned[x.duplicateOf] as Planned;
        return {
          created: false,
          event: { ...first.event, receivedAt: first.now, pos: positions.get(first.event.id) ?? 0 },
          woken: [],
        };
      }
      return {
        created: true,
        event: { ...x.event, receivedAt: x.now, pos: positions.get(x.event.id) ?? 0 },
        woken: plan.woken.get(i) ?? [],
      };
    });
  } finally {
    if (!ended) await c.query("ROLLBACK").catch(() => undefined);
  }
}

interface Delivery {
  runId: string;
  position: number;
  eventId: string;
  value: string;
  at: number;
}

interface WokenRun {
  runId: string;
  status: string;
  owner: string | null;
  workflow: string;
}

/**
 * Which waits the batch's events end, in order: each stored event ends the earliest open
 * wait it matches of each run, among the waits earlier events of the batch left open.
 */
function deliveries(planned: readonly Planned[], open: readonly OpenWaitRow[]) {
  const byKey = new Map<string, OpenWaitRow[]>();
  for (const w of open) {
    const k = JSON.stringify([w.target, w.match_paths, w.match_key]);
    let list = byKey.get(k);
    if (list === undefined) byKey.set(k, (list = []));
    list.push(w);
  }
  const taken = new Set<string>();
  const list: Delivery[] = [];
  const runs = new Map<string, WokenRun>();
  const woken = new Map<number, WaitRef[]>();
  planned.forEach((p, i) => {
    if (p.existing !== null || p.duplicateOf !== null) return;
    const earliest = new Map<string, OpenWaitRow>();
    for (const [paths, key] of p.keys) {
      for (const w of byKey.get(JSON.stringify([p.event.name, paths, key])) ?? []) {
        if (taken.has(`${w.run_id}\u0000${w.position}`)) continue;
        const best = earliest.get(w.run_id);
        if (best === undefined || w.position < best.position) earliest.set(w.run_id, w);
      }
    }
    if (earliest.size === 0) return;
    const value = encodeReceivedEvent(p.event.id, p.event.name, p.event.data, p.now);
    const refs: WaitRef[] = [];
    for (const w of [...earliest.values()].sort((a, b) => (a.run_id < b.run_id ? -1 : 1))) {
      taken.add(`${w.run_id}\u0000${w.position}`);
      list.push({ runId: w.run_id, position: w.position, eventId: p.event.id, value, at: p.now });
      runs.set(w.run_id, {
        runId: w.run_id,
        status: w.status,
        owner: w.owner,
        workflow: w.workflow,
      });
      refs.push({ runId: w.run_id, position: w.position });
    }
    woken.set(i, refs);
  });
  return { list, runs, woken };
}

/** Whom to wake: workers of the woken runs' workflows (for runs waiting in the store), and
 * the owners of runs held in memory (they read their inbox). Null when nobody. */
function wakeOf(runs: ReadonlyMap<string, WokenRun>): StoreWake | null {
  if (runs.size === 0) return null;
  const workflows = new Set<string>();
  const owners = new Set<string>();
  for (const r of runs.values()) {
    if (r.status === "running" && r.owner !== null) owners.add(r.owner);
    else workflows.add(r.workflow);
  }
  const wake = { workflows: [...workflows], wakeAt: null, owners: [...owners] };
  // Too many to name within a notification's payload: wake everyone.
  if (
    workflows.size > WAKE_WORKFLOWS_MAX ||
    owners.size > WAKE_WORKFLOWS_MAX ||
    JSON.stringify(wake).length > WAKE_PAYLOAD_CHARS_MAX
  )
    return { workflows: null, wakeAt: null };
  return wake;
}

/** Longest wake-up payload that names whom it wakes (PostgreSQL's limit is 8,000 bytes). */
const WAKE_PAYLOAD_CHARS_MAX = 2_000;
