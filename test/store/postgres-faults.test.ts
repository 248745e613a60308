// Proves the PostgreSQL store's behaviour under faults, on real servers: an unreachable
// database fails fast with a clear typed error; schemas it must not touch (newer, foreign,
// behind with migrations off) are refused unchanged; a statement blocked past its timeout
// fails as store_timeout; a connection killed mid-commit hands its run back and the run
// completes with a consistent journal; workers ride out a database restart with no run
// lost; claimers racing for one run never both get it; leases ignore workers' clocks; and a
// session idle inside one of endure's transactions is ended, freeing its locks.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createEngine, isEndureError, limits, workflow } from "endure";
import { postgresStore, SCHEMA_VERSION } from "endure/postgres";
import { BEGIN_BOUNDED, TRANSACTION_IDLE_MS_MAX } from "../../src/store/postgres/settings.js";
import type { Store } from "../../src/store/store.js";
import { eventually, onCleanup } from "../helpers.js";
import { startPostgres } from "../support/postgres-server.mjs";
import { admin, freshDatabase, openStore, withDatabase } from "../support/postgres.js";

const T0 = 1_700_000_000_000;

async function openError(store: Store): Promise<Error & { code?: string }> {
  try {
    await store.open();
  } catch (e) {
    return e as Error & { code?: string };
  }
  await store.close();
  throw new Error("expected open to fail");
}

function create(id: string, claim: { workerId: string; leaseMs: number } | null = null) {
  return {
    id,
    workflow: "wf",
    version: null,
    input: "null",
    started: { type: "run_started" as const, at: T0, position: null, key: null, data: null },
    claim,
    priority: 0,
    concurrencyKey: null,
    deadlineAt: null,
  };
}

const claimBy = (store: Store, workerId: string, now: number, leaseMs = 30_000) =>
  store.claim({
    workerId,
    workflows: ["wf"],
    limit: 10,
    leaseMs,
    now,
    recovering: false,
    concurrency: {},
  });

/** Steps that each count their executions, so a journal can be checked against them. */
function countingWorkflow(executions: Map<string, number>, steps: number, pauseMs: number) {
  return workflow("counted", async (ctx) => {
    let total = 0;
    for (let i = 1; i <= steps; i++) {
      total += await ctx.step("work", async ({ stepKey }) => {
        const k = `${ctx.runId} ${stepKey}`;
        executions.set(k, (executions.get(k) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, pauseMs));
        return i;
      });
    }
    return total;
  });
}

/** Every step of every run committed exactly once, numbered without gaps. */
async function checkJournals(url: string, runIds: string[], steps: number): Promise<void> {
  const rows = await admin(async (c) => {
    const r = await c.query<{ run_id: string; seq: number; type: string; key: string | null }>(
      "SELECT run_id, seq, type, key FROM endure.journal WHERE run_id = ANY($1) ORDER BY run_id, seq",
      [runIds],
    );
    return r.rows;
  }, url);
  for (const id of runIds) {
    const mine = rows.filter((r) => r.run_id === id);
    expect(
      mine.map((r) => r.seq),
      id,
    ).toEqual(mine.map((_, i) => i + 1));
    const done = mine.filter((r) => r.type === "step_succeeded").map((r) => r.key);
    expect(done, id).toEqual(Array.from({ length: steps }, (_, i) => `work#${i + 1}`));
    expect(
      mine.filter((r) => r.type === "run_completed"),
      id,
    ).toHaveLength(1);
  }
}

describe("PostgreSQL store faults", () => {
  it("fails fast with a clear error when the database cannot be reached", async () => {
    const started = Date.now();
    const error = await openError(
      postgresStore("postgres://endure@127.0.0.1:1/nowhere", { connectTimeoutMs: 2_000 }),
    );
    expect(error.code).toBe("store_unavailable");
    expect(error.message).toContain("cannot reach the endure store postgres://endure@127.0.0.1:1");
    expect(error.message).toContain("check that the server runs");
    expect(Date.now() - started).toBeLessThan(5_000);
    const viaEngine = await createEngine({
      store: postgresStore("postgres://endure@127.0.0.1:1/nowhere"),
      workflows: [],
    }).catch((e: unknown) => e);
    expect(isEndureError(viaEngine, "store_unavailable")).toBe(true);
  });

  it("names a missing database and hides the password of the URL", async () => {
    const url = new URL(withDatabase(await freshDatabase(), "endure_no_such_db"));
    url.password = "s3cret";
    const error = await openError(postgresStore(url.toString()));
    expect(error.code).toBe("store_unavailable");
    expect(error.message).not.toContain("s3cret");
    expect(error.message).toMatch(/does not exist|password|log in/);
  });

  it("refuses a schema written by a newer endure, changing nothing", async () => {
    const url = await freshDatabase();
    const store = await openStore(url);
    await store.commit({ creates: [create("kept")], writes: [], now: T0 });
    await store.close();
    await admin(
      (c) => c.query("INSERT INTO endure.migrations (version) VALUES ($1)", [SCHEMA_VERSION + 1]),
      url,
    );
    const error = await openError(postgresStore(url));
    expect(error.code).toBe("store_too_new");
    expect(error.message).toContain(
      `has version ${SCHEMA_VERSION + 1}, newer than the ${SCHEMA_VERSION}`,
    );
    const after = await admin(async (c) => {
      const v = await c.query<{ v: number }>("SELECT max(version) AS v FROM endure.migrations");
      const runs = await c.query<{ id: string }>("SELECT id FROM endure.runs");
      return { version: v.rows[0]?.v, runs: runs.rows.map((r) => r.id) };
    }, url);
    expect(after).toEqual({ version: SCHEMA_VERSION + 1, runs: ["kept"] });
  });

  it("refuses a schema of another application, and works beside it under another name", async () => {
    const url = await freshDatabase();
    await admin(async (c) => {
      await c.query("CREATE SCHEMA endure");
      await c.query("CREATE TABLE endure.customers (name text)");
      await c.query("INSERT INTO endure.customers VALUES ('ada')");
    }, url);
    const error = await openError(postgresStore(url));
    expect(error.code).toBe("store_not_endure");
    expect(error.message).toContain("another application");
    const beside = await openStore(url, { schema: "endure_jobs" });
    expect(
      (await beside.commit({ creates: [create("r")], writes: [], now: T0 })).creates[0]?.created,
    ).toBe(true);
    const customers = await admin((c) => c.query("SELECT name FROM endure.customers"), url);
    expect(customers.rows).toEqual([{ name: "ada" }]);
  });

  it("with migrations off, refuses a schema that is behind and leaves it as it was", async () => {
    const url = await freshDatabase();
    const error = await openError(postgresStore(url, { migrate: false }));
    expect(error.code).toBe("store_outdated");
    expect(error.message).toContain("run `endure migrate` first");
    const schemas = await admin(
      (c) => c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'endure'"),
      url,
    );
    expect(schemas.rowCount).toBe(0);
    await (await openStore(url)).close();
    const again = postgresStore(url, { migrate: false });
    await again.open();
    await again.close();
  });

  it("fails a statement blocked past its timeout with store_timeout, then works again", async () => {
    const url = await freshDatabase();
    const store = await openStore(url, { statementTimeoutMs: 300 });
    await store.commit({
      creates: [create("locked", { workerId: "w1", leaseMs: 30_000 })],
      writes: [],
      now: T0,
    });
    const blocker = await import("pg").then((m) => new m.default.Client(url));
    await blocker.connect();
    onCleanup(() => blocker.end());
    await blocker.query("BEGIN");
    // Appends wait for this lock (they take ROW EXCLUSIVE on the journal).
    await blocker.query("LOCK TABLE endure.journal IN SHARE MODE");
    const write = {
      runId: "locked",
      epoch: 1,
      entries: [{ type: "value_recorded" as const, at: T0, position: 1, key: "now", data: "1" }],
      update: null,
    };
    const started = Date.now();
    const error = await store
      .commit({ creates: [], writes: [write], now: T0 })
      .catch((e: unknown) => e);
    expect(isEndureError(error, "store_timeout")).toBe(true);
    expect((error as Error).message).toContain("did not answer in time while committing");
    expect(Date.now() - started).toBeLessThan(5_000);
    await blocker.query("ROLLBACK");
    const result = await store.commit({ creates: [], writes: [write], now: T0 });
    expect(result.writes[0]?.kind).toBe("committed");
    expect((await store.readJournal("locked")).map((e) => e.type)).toEqual([
      "run_started",
      "value_recorded",
    ]);
  });

  it("hands a run back when its connection is killed mid-commit, and the run completes", async () => {
    const url = await freshDatabase();
    const executions = new Map<string, number>();
    const wf = countingWorkflow(executions, 5, 5);
    const engine = await createEngine({
      store: postgresStore(url),
      workflows: [wf],
      logger: { warn: () => {} },
    });
    onCleanup(() => engine.close());
    const blocker = await import("pg").then((m) => new m.default.Client(url));
    await blocker.connect();
    onCleanup(() => blocker.end());
    // Lock the journal so that the run's next commit waits on the server, then kill that session.
    await blocker.query("BEGIN");
    const run = await engine.start(wf, undefined, { id: "cut" });
    await blocker.query("LOCK TABLE endure.journal IN SHARE MODE");
    const waiting = await eventually(
      async () => {
        const r = await admin(
          (c) =>
            c.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'endure' AND wait_event_type = 'Lock'",
            ),
          url,
        );
        return r.rows[0]?.pid;
      },
      10_000,
      "a commit waiting for the lock",
    );
    await admin((c) => c.query("SELECT pg_terminate_backend($1)", [waiting]), url);
    await blocker.query("ROLLBACK");
    expect(await run.result()).toBe(15);
    await checkJournals(url, ["cut"], 5);
    const recovered = (await engine.journal("cut")).filter((e) => e.type === "run_recovered");
    expect(recovered.length + [...executions.values()].filter((n) => n > 1).length).toBeGreaterThan(
      0,
    );
  });

  it("rides out a database restart: runs continue when it is back, none lost", async () => {
    const server = await startPostgres();
    onCleanup(() => server.stop());
    const executions = new Map<string, number>();
    const wf = countingWorkflow(executions, 6, 40);
    const warnings: string[] = [];
    const engine = await createEngine({
      store: postgresStore(server.url, { connectTimeoutMs: 1_000, reconnectMs: 300 }),
      workflows: [wf],
      worker: { lease: "10s" },
      logger: { warn: (m) => warnings.push(m) },
    });
    onCleanup(() => engine.close());
    const ids = Array.from({ length: 40 }, (_, i) => `r${i}`);
    const runs = await Promise.all(ids.map((id) => engine.start(wf, undefined, { id })));
    await new Promise((r) => setTimeout(r, 100));
    await server.halt();
    const down = await engine.health();
    expect(down.ok).toBe(false);
    expect(down.store.error).toMatch(/cannot reach|did not answer within 2000 ms/);
    expect(down.store.latencyMs).toBeLessThan(3_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await server.resume();
    const results = await Promise.all(runs.map((r) => r.result()));
    expect(results).toEqual(ids.map(() => 21));
    await checkJournals(server.url, ids, 6);
    // The outage outlasted the store's reconnection budget: commits failed and runs were
    // handed back, then taken again once the database was back.
    expect(warnings.some((w) => w.includes("the store failed"))).toBe(true);
    expect(warnings.some((w) => w.includes("the store works again"))).toBe(true);
    expect((await engine.health()).ok).toBe(true);
  });

  it("answers a health check within HEALTH_CHECK_MS_MAX while the store does not answer", async () => {
    const server = await startPostgres();
    onCleanup(() => server.stop());
    const engine = await createEngine({
      store: postgresStore(server.url),
      workflows: [],
      logger: { warn: () => {} },
    });
    onCleanup(() => engine.close());
    expect((await engine.health()).ok).toBe(true);
    await server.halt();
    const started = Date.now();
    const health = await engine.health();
    const tookMs = Date.now() - started;
    await server.resume();
    expect(health.ok).toBe(false);
    expect(health.store.error).toBe(
      `the store did not answer within ${limits.HEALTH_CHECK_MS_MAX} ms`,
    );
    expect(tookMs).toBeGreaterThanOrEqual(limits.HEALTH_CHECK_MS_MAX - 50);
    expect(tookMs).toBeLessThan(limits.HEALTH_CHECK_MS_MAX + 1_000);
  });

  it("refuses a late append of a worker whose run was taken, and commits the rest of its batch", async () => {
    const url = await freshDatabase();
    const old = await openStore(url);
    const taker = await openStore(url);
    await old.commit({
      creates: [
        create("taken", { workerId: "old", leaseMs: 200 }),
        create("kept", { workerId: "old", leaseMs: 60_000 }),
      ],
      writes: [],
      now: T0,
    });
    await new Promise((r) => setTimeout(r, 300));
    const [claimed] = await claimBy(taker, "taker", T0);
    expect([claimed?.run.id, claimed?.takeover]).toEqual(["taken", true]);
    const step = (n: number) => [
      { type: "step_attempt_started" as const, at: T0, position: n, key: `s#${n}`, data: "{}" },
      {
        type: "step_succeeded" as const,
        at: T0,
        position: n,
        key: `s#${n}`,
        data: '{"result":"old"}',
      },
    ];
    const late = await old.commit({
      creates: [],
      writes: [
        { runId: "taken", epoch: 1, entries: step(1), update: null },
        { runId: "kept", epoch: 1, entries: step(1), update: null },
      ],
      now: T0,
    });
    expect(late.writes.map((w) => w.kind)).toEqual(["fenced", "committed"]);
    expect((await taker.readJournal("taken")).map((e) => e.type)).toEqual(["run_started"]);
    expect((await old.readJournal("kept")).map((e) => e.type)).toEqual([
      "run_started",
      "step_attempt_started",
      "step_succeeded",
    ]);
    const mine = await taker.commit({
      creates: [],
      writes: [{ runId: "taken", epoch: claimed?.run.epoch ?? 0, entries: step(1), update: null }],
      now: T0,
    });
    expect(mine.writes[0]?.kind).toBe("committed");
  });

  it("gives a run to exactly one of two workers claiming it at the same moment", async () => {
    const url = await freshDatabase();
    const a = await openStore(url);
    const b = await openStore(url);
    for (let i = 0; i < 40; i++) {
      await a.commit({ creates: [create(`race-${i}`)], writes: [], now: T0 });
      const [x, y] = await Promise.all([claimBy(a, "a", T0), claimBy(b, "b", T0)]);
      expect((x?.length ?? 0) + (y?.length ?? 0), `round ${i}`).toBe(1);
    }
    // And a takeover: an expired lease raced for by both.
    await a.commit({
      creates: [create("orphan", { workerId: "gone", leaseMs: 200 })],
      writes: [],
      now: T0,
    });
    await new Promise((r) => setTimeout(r, 300));
    const [x, y] = await Promise.all([claimBy(a, "a", T0), claimBy(b, "b", T0)]);
    const taken = [...(x ?? []), ...(y ?? [])];
    expect(taken.map((c) => [c.run.id, c.takeover])).toEqual([["orphan", true]]);
  });

  it("measures leases on the database's clock, whatever the workers' clocks say", async () => {
    const url = await freshDatabase();
    const store = await openStore(url);
    await store.commit({
      creates: [create("held", { workerId: "honest", leaseMs: 30_000 })],
      writes: [],
      now: Date.now(),
    });
    const hourMs = 3_600_000;
    expect(
      await claimBy(store, "ahead", Date.now() + hourMs),
      "a clock an hour ahead steals nothing",
    ).toEqual([]);
    const renewed = await store.heartbeat(
      "honest",
      [{ runId: "held", epoch: 1 }],
      30_000,
      Date.now() - hourMs,
    );
    expect(renewed, "a clock an hour behind still renews").toEqual([]);
    await store.commit({
      creates: [create("short", { workerId: "dead", leaseMs: 200 })],
      writes: [],
      now: Date.now() + hourMs,
    });
    await new Promise((r) => setTimeout(r, 300));
    const behind = await claimBy(store, "behind", Date.now() - hourMs);
    expect(
      behind.map((c) => [c.run.id, c.takeover]),
      "an expired lease is taken by a clock behind",
    ).toEqual([["short", true]]);
  });

  it("ends a session idle in one of its transactions past TRANSACTION_IDLE_MS_MAX, freeing its locks", async () => {
    // A worker frozen inside a claim would hold the claim lock of concurrency limits; the
    // server ends its session after the bound, and the lock is free for the others.
    const url = await freshDatabase();
    const frozen = new pg.Client(url);
    frozen.on("error", () => {}); // the server ends this session on purpose
    await frozen.connect();
    onCleanup(() => frozen.end().catch(() => undefined));
    await frozen.query(BEGIN_BOUNDED);
    await frozen.query("SELECT pg_advisory_xact_lock(4242)");
    const tryLock = () =>
      admin(async (c) => {
        const r = await c.query<{ got: boolean }>("SELECT pg_try_advisory_lock(4242) AS got");
        if (r.rows[0]?.got === true) await c.query("SELECT pg_advisory_unlock(4242)");
        return r.rows[0]?.got === true;
      }, url);
    await new Promise((r) => setTimeout(r, TRANSACTION_IDLE_MS_MAX - 1_000));
    expect(await tryLock(), "held just under the bound").toBe(false);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await tryLock(), "free just past the bound").toBe(true);
  });
});
