// Proves the AI layer survives SIGKILL on real processes: a 10-turn agent (endure/ai) and an AI
// SDK generateText call with tools (endure/ai-sdk), killed at seeded random turns (mid model
// call, or right after a tool's effect) and restarted, finish with the same answer while the
// model server saw each committed call once, the ledger applied each effect once by its
// idempotency key, and a stream reader re-attaching after every crash got every part once in
// order; and an approval-gated call survives a crash while waiting, is decided by a second
// process and finished by a third, on approval and on rejection.
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEngine, type StreamChunk } from "endure";
import { sqliteStore } from "endure/sqlite";
import { tempDir } from "../helpers.js";
import {
  startModelServer,
  type ModelServer,
  type RecordedCall,
  type Reply,
} from "../fixtures/model-server.js";

const CHILD = new URL("../fixtures/agent-crash-child.mjs", import.meta.url).pathname;
const TURNS = 10;

type Point = { kind: "model"; turn: number } | { kind: "ledger"; n: number };
const order = (p: Point) => (p.kind === "model" ? 2 * p.turn : 2 * (p.n - 1) + 1);
const describePoint = (p: Point) =>
  p.kind === "model" ? `model call of turn ${p.turn}` : `after effect ${p.n}`;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distinct kill points in the order the run reaches them: model calls mid-flight (turns
 * 0..9) and tool effects just applied (1..9). */
function plan(seed: number, count: number): Point[] {
  const random = mulberry32(seed);
  const all: Point[] = [
    ...Array.from({ length: TURNS }, (_, turn) => ({ kind: "model" as const, turn })),
    ...Array.from({ length: TURNS - 1 }, (_, i) => ({ kind: "ledger" as const, n: i + 1 })),
  ];
  const picked: Point[] = [];
  while (picked.length < count) {
    const p = all.splice(Math.floor(random() * all.length), 1)[0]!;
    picked.push(p);
  }
  return picked.sort((a, b) => order(a) - order(b));
}

function turnOf(call: RecordedCall): number {
  return (call.body["messages"] as Array<{ role: string }>).filter((m) => m.role === "assistant")
    .length;
}

/** The scripted provider: record n at turn n-1, then report the total of what was recorded. */
function brain(call: RecordedCall): Reply {
  const messages = call.body["messages"] as Array<{ role: string; content: unknown }>;
  const turn = turnOf(call);
  if (turn < TURNS - 1)
    return {
      toolCalls: [
        { id: `call_${turn}`, name: "record", arguments: JSON.stringify({ n: turn + 1 }) },
      ],
    };
  const total = messages
    .filter((m) => m.role === "tool")
    .reduce((sum, m) => sum + (JSON.parse(String(m.content)) as { n: number }).n, 0);
  return { text: `total=${total}` };
}

interface Harness {
  server: ModelServer;
  /** Ledger: applied entries by key, and every attempt. */
  applied: Map<string, { n: number; entry: string }>;
  attempts: string[];
  /** Kill points reached, in order. */
  landed: Point[];
  run(
    mode: "agent" | "sdk",
    db: string,
    points: Point[],
    onCrash?: () => void,
    /** For round `r`, kill the child this many ms after it starts (null: no timed kill). */
    killAfterMs?: (round: number) => number | null,
  ): Promise<{ lines: string[]; kills: number }>;
}

async function harness(modelDelayMs = 0): Promise<Harness> {
  let child: ChildProcess | null = null;
  let pending: Point[] = [];
  const landed: Point[] = [];
  const applied = new Map<string, { n: number; entry: string }>();
  const attempts: string[] = [];
  const killAt = (p: Point): boolean => {
    const next = pending[0];
    if (next === undefined || order(next) !== order(p) || child === null) return false;
    pending.shift();
    landed.push(p);
    child.kill("SIGKILL");
    return true;
  };
  const server = await startModelServer(
    (call) => {
      if (killAt({ kind: "model", turn: turnOf(call) })) return { text: "", delayMs: 2_000 };
      return modelDelayMs === 0 ? brain(call) : { ...brain(call), delayMs: modelDelayMs };
    },
    {
      "/ledger": (body) => {
        const { key, n } = body as { key: string; n: number };
        attempts.push(key);
        let entry = applied.get(key);
        if (entry === undefined) applied.set(key, (entry = { n, entry: `e${applied.size + 1}` }));
        // The effect is applied; a kill here lands before the step can commit it.
        if (killAt({ kind: "ledger", n })) return null;
        return entry;
      },
    },
  );
  return {
    server,
    applied,
    attempts,
    landed,
    async run(mode, db, points, onCrash, killAfterMs) {
      pending = [...points];
      let kills = 0;
      for (let round = 0; round < 40; round++) {
        const { lines, killed } = await new Promise<{ lines: string[]; killed: boolean }>(
          (resolve, reject) => {
            const proc = spawn(process.execPath, [CHILD, mode, db, server.url], {
              stdio: ["ignore", "pipe", "pipe"],
            });
            child = proc;
            const delay = killAfterMs?.(round) ?? null;
            const timer = delay === null ? null : setTimeout(() => proc.kill("SIGKILL"), delay);
            const out: string[] = [];
            let stderr = "";
            let buffer = "";
            proc.stdout.on("data", (c: Buffer) => {
              buffer += c.toString();
              let nl: number;
              while ((nl = buffer.indexOf("\n")) >= 0) {
                out.push(buffer.slice(0, nl));
                buffer = buffer.slice(nl + 1);
              }
            });
            proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
            proc.on("error", reject);
            proc.on("exit", (code, signal) => {
              child = null;
              if (timer !== null) clearTimeout(timer);
              if (signal === "SIGKILL") resolve({ lines: out, killed: true });
              else if (code === 0) resolve({ lines: out, killed: false });
              else reject(new Error(`child exited with ${code}: ${stderr}`));
            });
          },
        );
        if (!killed) return { lines, kills };
        kills++;
        onCrash?.();
      }
      throw new Error("the run never completed");
    },
  };
}

/** Reads a run's output stream from the store, detaching and re-attaching on each crash. */
function reader(db: string, runId: string) {
  const got: StreamChunk[] = [];
  let controller = new AbortController();
  let stopped = false;
  const done = (async () => {
    const engine = await createEngine({ store: sqliteStore(db), worker: false });
    try {
      while (!stopped) {
        controller = new AbortController();
        const from = (got.at(-1)?.offset ?? -1) + 1;
        try {
          for await (const chunk of engine
            .handle(runId)
            .stream({ from, signal: controller.signal }))
            got.push(chunk);
          if (!controller.signal.aborted) return;
        } catch (e) {
          // Before the first child created the run, there is nothing to read yet.
          if ((e as { code?: string }).code !== "run_not_found") throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      await engine.close();
    }
  })();
  return {
    got,
    /** A disconnect: the current read stops; the next one starts after the last part. */
    reattach: () => controller.abort(),
    async finish() {
      await done;
      stopped = true;
    },
  };
}

function journalRows(db: string, runId: string) {
  const conn = new Database(db, { readonly: true });
  const rows = conn
    .prepare("SELECT type, key, data FROM journal WHERE run_id = ? ORDER BY seq")
    .all(runId) as Array<{ type: string; key: string | null; data: string | null }>;
  const stream = conn
    .prepare("SELECT seq, data FROM stream WHERE run_id = ? ORDER BY seq")
    .all(runId) as Array<{ seq: number; data: string }>;
  conn.close();
  return { rows, stream };
}

function checkModelCalls(h: Harness, points: Point[], committedIds: string[], seed: number) {
  const byTurn = new Map<number, RecordedCall[]>();
  for (const c of h.server.calls) byTurn.set(turnOf(c), [...(byTurn.get(turnOf(c)) ?? []), c]);
  expect(committedIds, `seed ${seed}`).toHaveLength(TURNS);
  for (let turn = 0; turn < TURNS; turn++) {
    const calls = byTurn.get(turn) ?? [];
    const interrupted = points.filter((p) => p.kind === "model" && p.turn === turn).length;
    // Re-sent only when a kill interrupted it before its response was committed.
    expect(calls.length, `turn ${turn}, seed ${seed}`).toBe(1 + interrupted);
    // The committed response is the last one the server gave: none after the commit.
    expect(`resp_${calls.at(-1)?.index}`, `turn ${turn}, seed ${seed}`).toBe(committedIds[turn]);
  }
}

function checkLedger(h: Harness, points: Point[], keyOf: (n: number) => string, seed: number) {
  expect(h.applied.size, `seed ${seed}`).toBe(TURNS - 1);
  for (let n = 1; n < TURNS; n++) {
    const key = keyOf(n);
    expect(h.applied.get(key)?.n, `effect ${n} applied under its step's key, seed ${seed}`).toBe(n);
    const repeated = points.filter((p) => p.kind === "ledger" && p.n === n).length;
    // Applied once; re-sent (and refused as a duplicate) only after a kill that followed it.
    expect(
      h.attempts.filter((k) => k === key),
      `effect ${n}, seed ${seed}`,
    ).toHaveLength(1 + repeated);
  }
}

function checkReader(
  got: StreamChunk[],
  stored: Array<{ seq: number; data: string }>,
  seed: number,
) {
  expect(
    got.map((c) => c.offset),
    `seed ${seed}`,
  ).toEqual(stored.map((s) => s.seq));
  expect(
    got.map((c) => c.offset),
    `seed ${seed}`,
  ).toEqual(got.map((_, i) => i));
  expect(got.map((c) => c.part)).toEqual(stored.map((s) => JSON.parse(s.data) as unknown));
}

describe("AI crash recovery (SIGKILL)", () => {
  it("a 10-turn agent killed at random turns finishes with the same answer, paying and acting once", async () => {
    const seed = Number(process.env["CRASH_SEED"] ?? Date.now() % 1_000_000);
    const points = plan(seed, 6);
    console.log(`agent crash seed ${seed}: ${points.map(describePoint).join(", ")}`);
    const h = await harness();
    try {
      const db = join(tempDir(), "agent.db");
      const watch = reader(db, "agent-run");
      const { lines, kills } = await h.run("agent", db, points, () => watch.reattach());
      await watch.finish();
      expect(kills, `seed ${seed}`).toBe(points.length);
      expect(h.landed).toEqual(points);
      const done = lines.find((l) => l.startsWith("done "));
      expect(JSON.parse(done!.slice(5)) as { text: string }).toMatchObject({
        text: "total=45",
        turns: TURNS,
      });
      const { rows, stream } = journalRows(db, "agent-run");
      const committed = rows
        .filter((r) => r.type === "step_succeeded" && r.key?.startsWith("model#"))
        .map((r) => (JSON.parse(r.data!) as { result: { id: string } }).result.id);
      checkModelCalls(h, points, committed, seed);
      checkLedger(h, points, (n) => `agent-run/tool record#${n}`, seed);
      expect(
        rows.filter((r) => r.type === "step_succeeded" && r.key?.startsWith("tool record#")),
      ).toHaveLength(TURNS - 1);
      expect(rows.filter((r) => r.type === "run_recovered").length).toBeGreaterThanOrEqual(1);
      checkReader(watch.got, stream, seed);
      const types = watch.got.map((c) => c.part.type);
      expect(types.filter((t) => t === "start")).toHaveLength(1);
      expect(types.filter((t) => t === "finish")).toHaveLength(1);
      expect(types.filter((t) => t === "tool-output-available")).toHaveLength(TURNS - 1);
    } finally {
      await h.server.close();
    }
  });

  it("an AI SDK generateText call with durable tools, killed at random turns, does the same", async () => {
    const seed = Number(process.env["CRASH_SEED"] ?? (Date.now() + 7) % 1_000_000);
    const points = plan(seed, 6);
    console.log(`ai-sdk crash seed ${seed}: ${points.map(describePoint).join(", ")}`);
    const reference = await harness();
    const h = await harness();
    try {
      // The stream a run without crashes writes, to compare with.
      const cleanDb = join(tempDir(), "clean.db");
      await reference.run("sdk", cleanDb, []);
      const clean = journalRows(cleanDb, "sdk-run").stream.map(
        (s) => (JSON.parse(s.data) as { type: string }).type,
      );
      const db = join(tempDir(), "sdk.db");
      const watch = reader(db, "sdk-run");
      const { lines, kills } = await h.run("sdk", db, points, () => watch.reattach());
      await watch.finish();
      expect(kills, `seed ${seed}`).toBe(points.length);
      const done = lines.find((l) => l.startsWith("done "));
      expect(JSON.parse(done!.slice(5))).toEqual({ text: "total=45" });
      const { rows, stream } = journalRows(db, "sdk-run");
      const committed = rows
        .filter((r) => r.type === "step_succeeded" && r.key?.startsWith("model#"))
        .map(
          (r) =>
            (JSON.parse(r.data!) as { result: { result: { response: { id: string } } } }).result
              .result.response.id,
        );
      checkModelCalls(h, points, committed, seed);
      checkLedger(h, points, (n) => `sdk-run/record call_${n - 1}#1`, seed);
      checkReader(watch.got, stream, seed);
      // generateText streams nothing live: every part comes from workflow code, written once,
      // so the crashed run's stream is the clean run's, part for part.
      expect(watch.got.map((c) => c.part.type)).toEqual(clean);
    } finally {
      await reference.server.close();
      await h.server.close();
    }
  });

  it("an agent killed at random instants still answers the same, pays committed calls once, acts once", async () => {
    const seed = Number(process.env["CRASH_SEED"] ?? (Date.now() + 13) % 1_000_000);
    const random = mulberry32(seed);
    console.log(`agent random-instant crash seed ${seed}`);
    // Slow answers spread the run over the window in which the kills fall.
    const h = await harness(60);
    try {
      const db = join(tempDir(), "instants.db");
      const watch = reader(db, "agent-run");
      const { lines, kills } = await h.run(
        "agent",
        db,
        [],
        () => watch.reattach(),
        (round) => (round < 8 ? 250 + Math.floor(random() * 500) : null),
      );
      await watch.finish();
      expect(kills, `seed ${seed}`).toBeGreaterThan(0);
      const done = lines.find((l) => l.startsWith("done "));
      expect(JSON.parse(done!.slice(5)) as { text: string }, `seed ${seed}`).toMatchObject({
        text: "total=45",
      });
      const { rows, stream } = journalRows(db, "agent-run");
      const committed = rows
        .filter((r) => r.type === "step_succeeded" && r.key?.startsWith("model#"))
        .map((r) => (JSON.parse(r.data!) as { result: { id: string } }).result.id);
      expect(committed).toHaveLength(TURNS);
      committed.forEach((id, turn) => {
        const calls = h.server.calls.filter((c) => turnOf(c) === turn);
        expect(
          `resp_${calls.at(-1)?.index}`,
          `turn ${turn} re-sent after its commit, seed ${seed}`,
        ).toBe(id);
      });
      // Calls re-sent (interrupted before their commit) are bounded by the kills.
      expect(h.server.calls.length - TURNS).toBeLessThanOrEqual(kills);
      expect(h.applied.size).toBe(TURNS - 1);
      for (let n = 1; n < TURNS; n++)
        expect(h.applied.get(`agent-run/tool record#${n}`)?.n).toBe(n);
      checkReader(watch.got, stream, seed);
    } finally {
      await h.server.close();
    }
  });

  for (const decision of ["approve", "reject"] as const) {
    it(`an approval-gated tool survives a crash while waiting and continues on ${decision}`, async () => {
      const turns: number[] = [];
      let effects = 0;
      const server = await startModelServer(
        (call) => {
          const turn = turnOf(call);
          turns.push(turn);
          if (turn === 0)
            return { toolCalls: [{ id: "call_gate", name: "record", arguments: '{"n":7}' }] };
          const tool = (call.body["messages"] as Array<{ role: string; content: string }>).find(
            (m) => m.role === "tool",
          );
          return { text: `tool said: ${tool?.content ?? "nothing"}` };
        },
        {
          "/ledger": (body) => {
            effects++;
            return { ...(body as object), entry: "e1" };
          },
        },
      );
      try {
        const db = join(tempDir(), "gate.db");
        const runId = `gate-${decision}`;
        const step = (mode: string, ...extra: string[]) =>
          new Promise<{ lines: string[]; signal: string | null }>((resolve, reject) => {
            const proc = spawn(process.execPath, [CHILD, mode, db, server.url, runId, ...extra], {
              stdio: ["ignore", "pipe", "pipe"],
            });
            let out = "";
            let err = "";
            proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
            proc.stderr.on("data", (c: Buffer) => (err += c.toString()));
            proc.on("exit", (code, signal) =>
              code === 0 || signal === "SIGKILL"
                ? resolve({ lines: out.trim().split("\n"), signal })
                : reject(new Error(err)),
            );
          });
        const started = await step("gate-start");
        expect(started.signal).toBe("SIGKILL");
        expect(started.lines).toContain("pending record call_gate");
        const decided = await step("gate-decide", decision);
        expect(decided.lines[0]).toBe("settled");
        const finished = await step("gate-finish");
        const done = finished.lines.find((l) => l.startsWith("done "));
        const text = (JSON.parse(done!.slice(5)) as { text: string }).text;
        if (decision === "approve") {
          expect(text).toBe('tool said: {"key":"gate-approve/tool record#1","n":7,"entry":"e1"}');
        } else {
          expect(text).toBe(
            "tool said: Error: the call of tool 'record' was not run: dana rejected it: rejected by the test",
          );
        }
        expect(effects).toBe(decision === "approve" ? 1 : 0);
        expect(turns).toEqual([0, 1]);
        const { rows } = journalRows(db, runId);
        const completed = rows.find((r) => r.type === "wait_completed");
        expect(JSON.parse(completed!.data!)).toMatchObject({
          result: {
            approved: decision === "approve",
            by: "dana",
            comment: `${decision === "approve" ? "approved" : "rejected"} by the test`,
          },
        });
        expect(rows.some((r) => r.type === "run_recovered" || r.type === "run_resumed")).toBe(true);
      } finally {
        await server.close();
      }
    });
  }
});
