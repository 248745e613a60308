// Proves the PostgreSQL store's options and statement building without a server: option
// limits at their edges with typed errors, and the commit statement holding only the parts a
// batch needs, with a wake-up that names at most WAKE_WORKFLOWS_MAX workflows.
import { describe, expect, it } from "vitest";
import { isEndureError } from "endure";
import { postgresStore } from "endure/postgres";
import { buildCommit } from "../../src/store/postgres/commit.js";
import { STREAM_PARTS_MAX_DEFAULT } from "../../src/core/limits.js";
import { SCHEMA_NAME_LENGTH_MAX, settingsOf } from "../../src/store/postgres/settings.js";
import type { CommitBatch, RunCreate } from "../../src/store/store.js";

function refused(fn: () => unknown): boolean {
  try {
    fn();
  } catch (e) {
    return isEndureError(e, "invalid_argument");
  }
  return false;
}

const create = (id: string, workflow: string): RunCreate => ({
  id,
  workflow,
  version: null,
  input: "null",
  started: { type: "run_started", at: 1, position: null, key: null, data: null },
  claim: null,
  priority: 0,
  concurrencyKey: null,
  deadlineAt: null,
});

describe("PostgreSQL store options", () => {
  it("takes schema names of up to SCHEMA_NAME_LENGTH_MAX lower-case identifier characters", () => {
    const longest = `s${"x".repeat(SCHEMA_NAME_LENGTH_MAX - 1)}`;
    expect(settingsOf({ schema: longest }).schema).toBe(longest);
    expect(refused(() => settingsOf({ schema: `${longest}x` }))).toBe(true);
    expect(refused(() => postgresStore("postgres://h/db", { schema: "Endure" }))).toBe(true);
    expect(refused(() => postgresStore("postgres://h/db", { schema: 'x"; drop' }))).toBe(true);
    expect(settingsOf({}).schema).toBe("endure");
  });

  it("refuses pools, timeouts and reconnection budgets below 1", () => {
    for (const bad of [
      { poolSize: 0 },
      { statementTimeoutMs: 0 },
      { connectTimeoutMs: -5 },
      { reconnectMs: 1.5 },
    ]) {
      expect(
        refused(() => settingsOf(bad)),
        JSON.stringify(bad),
      ).toBe(true);
    }
    expect(settingsOf({ poolSize: 1 }).poolSize).toBe(1);
  });
});

describe("PostgreSQL commit statements", () => {
  const batch = (creates: RunCreate[], writes: CommitBatch["writes"]): CommitBatch => ({
    creates,
    writes,
    now: 1,
  });

  it("holds only the parts a batch needs, named by its shape", () => {
    const step = buildCommit(
      "endure",
      batch([], [{ runId: "r", epoch: 1, entries: [], update: null }]),
      [],
      () => 1,
      "ch",
      STREAM_PARTS_MAX_DEFAULT,
    );
    expect(step.name).toBe("endure_commit_endure_w");
    expect(step.text).not.toContain('INSERT INTO "endure".runs');
    expect(step.text).not.toContain("UPDATE");
    const end = buildCommit(
      "endure",
      batch(
        [],
        [{ runId: "r", epoch: 1, entries: [], update: { status: "completed", output: "1" } }],
      ),
      [],
      () => 1,
      "ch",
      STREAM_PARTS_MAX_DEFAULT,
    );
    expect(end.name).toBe("endure_commit_endure_wu");
    expect(end.text).toContain("UPDATE");
    const created = buildCommit(
      "endure",
      batch([create("a", "wf")], []),
      [create("a", "wf")],
      () => null,
      "ch",
      STREAM_PARTS_MAX_DEFAULT,
    );
    expect(created.name).toBe("endure_commit_endure_cn");
  });

  it("names up to 32 workflows in a wake-up, and 'any' past that", () => {
    const wakeOf = (n: number) => {
      const creates = Array.from({ length: n }, (_, i) => create(`r${i}`, `wf${i}`));
      const values = buildCommit(
        "endure",
        batch(creates, []),
        creates,
        () => null,
        "ch",
        STREAM_PARTS_MAX_DEFAULT,
      ).values;
      return JSON.parse(values[values.length - 1] as string) as { workflows: string[] | null };
    };
    expect(wakeOf(32).workflows).toHaveLength(32);
    expect(wakeOf(33).workflows).toBeNull();
  });
});
