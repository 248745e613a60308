// Large payloads by reference: with `blobs`, a 10 MiB step result is written once to the blob
// store (two steps returning it make one blob), the journal row keeps only its hash, a fresh
// engine replays the run from it without running the step again, with a codec the blob holds
// no plaintext, a missing blob is a typed error naming the hash and the run (a run needing it pauses), and the threshold
// is exact. On real SQLite files and a real PostgreSQL server, blobs in real directories.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  aesGcmCodec,
  createEngine,
  directoryBlobStore,
  isEndureError,
  limits,
  workflow,
  type Engine,
  type EngineOptions,
  type Store,
} from "endure";
import { sqliteStore } from "endure/sqlite";
import { postgresStore } from "endure/postgres";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { freshDatabase } from "../support/postgres.js";

const MIB = 1024 * 1024;
const transcript = `${"the model said: ".repeat(10)}${"x".repeat(10 * MIB)}`;
let bodies = 0;

const summarize = workflow("summarize", async (ctx) => {
  const first = await ctx.step("transcribe", () => {
    bodies++;
    return transcript;
  });
  const again = await ctx.step("transcribe", () => {
    bodies++;
    return transcript;
  });
  await ctx.waitForSignal("go", { timeout: "1h" });
  return { length: first.length, same: first === again };
});

/** Every file under a directory, recursively. */
function files(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    out = e.isDirectory() ? [...out, ...files(path)] : [...out, path];
  }
  return out;
}

const waitingAtSignal = async (engine: Engine, id: string) =>
  eventually(async () =>
    (await engine.journal(id)).some((e) => e.type === "wait_started" && e.key === "go#1"),
  );

type Setup = { store: () => Store; blobDir: string; rowBytes: () => Promise<number[]> };

const stores: Array<[string, () => Promise<Setup>]> = [
  [
    "SQLite, blobs: true beside the file",
    async () => {
      const path = join(tempDir(), "big.db");
      return {
        store: () => sqliteStore(path),
        blobDir: `${path}.blobs`,
        rowBytes: async () => {
          const db = new Database(path, { readonly: true });
          const rows = db
            .prepare("SELECT length(data) AS n FROM journal WHERE data IS NOT NULL")
            .all() as Array<{ n: number }>;
          db.close();
          return rows.map((r) => r.n);
        },
      };
    },
  ],
  [
    "PostgreSQL, a blob directory",
    async () => {
      const url = await freshDatabase();
      return {
        store: () => postgresStore(url),
        blobDir: join(tempDir(), "blobs"),
        rowBytes: async () => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          const r = await c.query<{ n: number }>(
            "SELECT octet_length(data) AS n FROM endure.journal WHERE data IS NOT NULL",
          );
          await c.end();
          return r.rows.map((x) => Number(x.n));
        },
      };
    },
  ],
];

describe.each(stores)("large step results on %s", (name, setup) => {
  const open = async (s: Setup, extra: Partial<EngineOptions> = {}) => {
    const engine = await createEngine({
      store: s.store(),
      workflows: [summarize],
      logger: { warn: () => {} },
      gcSchedule: null,
      blobs: name.startsWith("SQLite") ? true : directoryBlobStore(s.blobDir),
      ...extra,
    });
    onCleanup(() => engine.close());
    return engine;
  };

  it("are stored once by reference and replayed from the blob store", async () => {
    const s = await setup();
    bodies = 0;
    const engine = await open(s);
    await engine.start(summarize, undefined, { id: "big-1" });
    await waitingAtSignal(engine, "big-1");
    await engine.close();

    // One blob for the two equal results; every journal row stays small.
    const blobs = files(s.blobDir);
    expect(blobs).toHaveLength(1);
    expect(statSync(blobs[0]!).size).toBeGreaterThan(10 * MIB);
    expect(Math.max(...(await s.rowBytes()))).toBeLessThan(4096);

    // A fresh engine resumes the run from its journal: the steps' bodies do not run again.
    const again = await open(s);
    await again.signal("big-1", "go", {});
    expect(await again.handle("big-1").result()).toEqual({ length: transcript.length, same: true });
    expect(bodies).toBe(2);
    const journal = await again.journal("big-1");
    const results = journal.filter((e) => e.type === "step_succeeded");
    expect((results[0]?.data as { result: string }).result).toBe(transcript);

    // Without the blob, reading the journal names the hash and the run.
    rmSync(s.blobDir, { recursive: true });
    const missing = await again.journal("big-1").catch((e: unknown) => e);
    expect(isEndureError(missing, "blob_missing")).toBe(true);
    expect((missing as Error).message).toMatch(/run big-1 refers to the blob [0-9a-f]{64}/);
  });
  it("pause a run whose blob is gone when it resumes, as unreadable", async () => {
    const s = await setup();
    const engine = await open(s);
    await engine.start(summarize, undefined, { id: "big-2" });
    await waitingAtSignal(engine, "big-2");
    await engine.close();
    rmSync(s.blobDir, { recursive: true });
    const again = await open(s);
    await again.signal("big-2", "go", {});
    await eventually(async () => (await again.getRun("big-2"))?.status === "paused");
    const run = await again.getRun("big-2");
    expect(run?.pausedReason).toBe("unreadable");
  });
});

describe("large step results", () => {
  it("are refused without blobs, naming the option", async () => {
    const engine = await createEngine({
      store: sqliteStore(join(tempDir(), "plain.db")),
      workflows: [summarize],
      logger: { warn: () => {} },
      gcSchedule: null,
    });
    onCleanup(() => engine.close());
    const run = await engine.start(summarize, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect((error as Error).message).toContain("the `blobs` option");
  });

  it("go to the blob store past the threshold exactly, sealed first with a codec", async () => {
    const threshold = 4096;
    const secret = "Patient-7781-diagnosis";
    const note = workflow("note", async (ctx, input: { pad: number }) =>
      ctx.step("note", () => `${secret}${"y".repeat(input.pad)}`),
    );
    const openAt = async (path: string, extra: Partial<EngineOptions> = {}) => {
      const engine = await createEngine({
        store: sqliteStore(path),
        workflows: [note],
        logger: { warn: () => {} },
        gcSchedule: null,
        blobs: true,
        limits: { blobThresholdBytes: threshold },
        ...extra,
      });
      onCleanup(() => engine.close());
      return engine;
    };
    const stored = (path: string, id: string): string => {
      const db = new Database(path, { readonly: true });
      const row = db
        .prepare("SELECT data FROM journal WHERE run_id = ? AND type = 'step_succeeded'")
        .get(id) as { data: string };
      db.close();
      return row.data;
    };
    const isRef = (data: string) =>
      /^\{"\$endure":"blob","sha256":"[0-9a-f]{64}","bytes":\d+\}$/.test(data);

    // The stored data of a step result is its text plus a fixed frame: find the frame, then
    // store a result of exactly the threshold (kept inline) and one byte more (a blob).
    const path = join(tempDir(), "edge.db");
    const engine = await openAt(path);
    await (await engine.start(note, { pad: 10 }, { id: "probe" })).result();
    const frame = stored(path, "probe").length - (secret.length + 10);
    const padFor = (bytes: number) => bytes - frame - secret.length;
    await (await engine.start(note, { pad: padFor(threshold) }, { id: "at" })).result();
    await (await engine.start(note, { pad: padFor(threshold + 1) }, { id: "over" })).result();
    expect(stored(path, "at")).toHaveLength(threshold);
    expect(isRef(stored(path, "at"))).toBe(false);
    expect(isRef(stored(path, "over"))).toBe(true);
    expect(files(`${path}.blobs`)).toHaveLength(1);
    expect(await engine.handle("over").result()).toHaveLength(threshold + 1 - frame);

    // With a codec the blob holds the sealed data: no plaintext on disk.
    const sealedPath = join(tempDir(), "sealed.db");
    const sealed = await openAt(sealedPath, {
      codec: aesGcmCodec({ keys: { k: Buffer.alloc(32, 7) }, current: "k" }),
    });
    await (await sealed.start(note, { pad: 20_000 }, { id: "big" })).result();
    expect(isRef(stored(sealedPath, "big"))).toBe(true);
    const [blob] = files(`${sealedPath}.blobs`);
    expect(readFileSync(blob!, "utf8")).toContain('"$endure":"sealed"');
    expect(readFileSync(blob!, "utf8")).not.toContain(secret);
    expect(await sealed.handle("big").result()).toContain(secret);
    expect(limits.BLOB_THRESHOLD_BYTES_DEFAULT).toBe(256 * 1024);
  });

  it("blobs: true needs a SQLite file", async () => {
    await expect(
      createEngine({
        store: sqliteStore(":memory:"),
        workflows: [],
        gcSchedule: null,
        blobs: true,
      }),
    ).rejects.toThrow("blobs: true keeps blobs in a directory beside the SQLite file");
  });
});
