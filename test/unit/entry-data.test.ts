// The one definition of journal entry data: each type's encoder writes the format journals
// already hold (byte for byte), its decoder reads it back typed, and data of the wrong shape
// is a StoreCorruptError naming the entry.
import { describe, expect, it } from "vitest";
import {
  entryData,
  peekAttempt,
  peekSpan,
  peekTrace,
  peekWaitKind,
  readEntryData,
  withSpan,
} from "../../src/core/entry-data.js";
import { StoreCorruptError } from "../../src/core/errors.js";
import type { EntryType } from "../../src/core/journal.js";
import { encodeValue } from "../../src/core/serialize.js";

const err = encodeValue(new Error("boom"), "error");
const boom: unknown = expect.objectContaining({ name: "Error", message: "boom" });
const span = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** Every type's data as this version writes it, and what reading it gives back. */
const cases: { [T in EntryType]: [string | null, unknown] } = {
  run_started: [
    entryData.run_started({ workflow: "wf", version: "2", trace: span }),
    { workflow: "wf", version: "2", trace: span },
  ],
  run_recovered: [
    entryData.run_recovered({ worker: "w1", recoveries: 2 }),
    { worker: "w1", recoveries: 2 },
  ],
  run_resumed: [entryData.run_resumed({ by: "request" }), { by: "request" }],
  run_retried: [entryData.run_retried({ by: "ana" }), { by: "ana" }],
  run_rewound: [
    entryData.run_rewound({ by: "ana", step: "plan#1", position: 2 }),
    { by: "ana", step: "plan#1", position: 2 },
  ],
  run_forked: [
    entryData.run_forked({ by: "ana", from: "r-1", step: "plan#1", position: 2, edited: true }),
    { by: "ana", from: "r-1", step: "plan#1", position: 2, edited: true },
  ],
  run_suspended: [entryData.run_suspended({ wakeAt: 5 }), { wakeAt: 5 }],
  run_continued: [
    entryData.run_continued({ segment: 2, positions: 7, input: encodeValue({ turn: 3 }, "in") }),
    { segment: 2, positions: 7, input: { turn: 3 } },
  ],
  run_limit_reached: [entryData.run_limit_reached({ entries: 100 }), { entries: 100 }],
  step_attempt_started: [
    entryData.step_attempt_started({ attempt: 1, site: "a.ts:1:2" }),
    { attempt: 1, site: "a.ts:1:2" },
  ],
  step_attempt_failed: [
    entryData.step_attempt_failed({ attempt: 1, attempts: 3, retryAt: 9, delayMs: 4, error: err }),
    { attempt: 1, attempts: 3, retryAt: 9, delayMs: 4, error: boom },
  ],
  step_verification_failed: [
    entryData.step_verification_failed({
      attempt: 2,
      attempts: 3,
      retryAt: 9,
      delayMs: 4,
      error: err,
    }),
    { attempt: 2, attempts: 3, retryAt: 9, delayMs: 4, error: boom },
  ],
  step_succeeded: [
    entryData.step_succeeded({
      attempt: 1,
      usage: { inputTokens: 1, outputTokens: 2, costUsd: 0 },
      result: encodeValue(new Date(0), "r"),
    }),
    { attempt: 1, usage: { inputTokens: 1, outputTokens: 2, costUsd: 0 }, result: new Date(0) },
  ],
  step_failed: [entryData.step_failed({ attempts: 1, error: err }), { attempts: 1, error: boom }],
  value_recorded: [entryData.value_recorded(0.5), 0.5],
  patch_applied: [entryData.patch_applied({ deprecated: true }), { deprecated: true }],
  memory_read: [
    entryData.memory_read({ namespace: "customer", key: "42", version: 0, value: null }),
    { namespace: "customer", key: "42", version: 0 },
  ],
  memory_written: [
    entryData.memory_written({
      namespace: "customer",
      key: "42",
      version: 3,
      value: encodeValue(new Date(0), "v"),
    }),
    { namespace: "customer", key: "42", version: 3, value: new Date(0) },
  ],
  memory_failed: [entryData.memory_failed({ error: err }), { error: boom }],
  sleep_started: [entryData.sleep_started({ wakeAt: 7, site: null }), { wakeAt: 7 }],
  sleep_completed: [entryData.sleep_completed(), null],
  sleep_cancelled: [entryData.sleep_cancelled({ by: "race#1" }), { by: "race#1" }],
  wait_cancelled: [entryData.wait_cancelled({ by: "some#2" }), { by: "some#2" }],
  combinator_settled: [
    entryData.combinator_settled({ winners: [2, 0], ok: true }),
    { winners: [2, 0], ok: true },
  ],
  combinator_cancelled: [entryData.combinator_cancelled({ by: "race#1" }), { by: "race#1" }],
  wait_started: [
    entryData.wait_started({
      kind: "event",
      target: "paid",
      timeoutAt: 3,
      match: { paths: ["data.id"], key: "[1]" },
      policy: encodeValue([{ after: "1h", action: "remind", afterMs: 1 }], "p"),
      site: null,
    }),
    {
      kind: "event",
      target: "paid",
      timeoutAt: 3,
      match: { paths: ["data.id"], key: "[1]" },
      policy: [{ after: "1h", action: "remind", afterMs: 1 }],
    },
  ],
  wait_reminded: [entryData.wait_reminded({ rung: 1, event: "e" }), { rung: 1, event: "e" }],
  wait_escalated: [
    entryData.wait_escalated({ rung: 2, event: "e", to: ["bo"] }),
    { rung: 2, event: "e", to: ["bo"] },
  ],
  wait_completed: [
    entryData.wait_completed({ status: "timed_out", result: null }),
    { status: "timed_out", result: null },
  ],
  run_cancel_requested: [
    entryData.run_cancel_requested({ reason: "r", kind: "cancelled" }),
    { reason: "r", kind: "cancelled" },
  ],
  run_completed: [entryData.run_completed({ output: "1" }), { output: 1 }],
  run_failed: [entryData.run_failed({ error: err }), { error: boom }],
  run_cancelled: [entryData.run_cancelled({ reason: "r", cleanupErrors: [] }), { reason: "r" }],
  run_timed_out: [
    entryData.run_timed_out({ reason: "ttl", cleanupErrors: ["x"] }),
    { reason: "ttl", cleanupErrors: ["x"] },
  ],
  run_paused: [
    entryData.run_paused({ reason: "crash_loop", message: "m" }),
    { reason: "crash_loop", message: "m" },
  ],
};

describe("entry data", () => {
  it.each(Object.entries(cases))(
    "%s reads back what it was written with",
    (type, [data, value]) => {
      expect(readEntryData({ type: type as EntryType, data }, type as EntryType)).toEqual(value);
    },
  );

  it("writes the format journals already hold", () => {
    expect(cases.step_succeeded[0]).toBe(
      '{"attempt":1,"usage":{"inputTokens":1,"outputTokens":2,"costUsd":0},"result":{"$endure":"date","v":"1970-01-01T00:00:00.000Z"}}',
    );
    expect(cases.step_attempt_started[0]).toBe('{"attempt":1,"site":"a.ts:1:2"}');
    expect(cases.sleep_started[0]).toBe('{"wakeAt":7}');
    expect(cases.wait_completed[0]).toBe('{"status":"timed_out","result":null}');
    expect(cases.run_cancelled[0]).toBe('{"reason":"r"}');
    expect(cases.value_recorded[0]).toBe("0.5");
    expect(entryData.run_resumed({})).toBeNull();
    expect(cases.wait_started[0]).toMatch(
      /^\{"kind":"event","target":"paid","timeoutAt":3,"match":/,
    );
  });

  it("lets observers peek without decoding", () => {
    expect(peekAttempt(cases.step_failed[0])).toBe(1);
    expect(peekAttempt(cases.step_verification_failed[0])).toBe(2);
    expect(peekWaitKind(cases.wait_started[0])).toBe("event");
    expect(peekTrace(cases.run_started[0])).toBe(span);
    expect(peekSpan(withSpan(null, span))).toBe(span);
    expect(peekSpan(withSpan(entryData.run_suspended({ wakeAt: 1 }), span))).toBe(span);
    expect(
      readEntryData({ type: "run_resumed", data: withSpan(null, span) }, "run_resumed"),
    ).toEqual({ span });
  });

  it("refuses data of the wrong shape with a StoreCorruptError naming the entry", () => {
    const bad = [
      { type: "step_succeeded", data: '{"attempt":1}', problem: "lacks the field 'result'" },
      {
        type: "step_succeeded",
        data: '{"attempt":"1","result":1}',
        problem: "'attempt' is not a number",
      },
      { type: "sleep_started", data: null, problem: "has no data" },
      { type: "sleep_completed", data: "{}", problem: "has data where none belongs" },
      { type: "wait_started", data: "{nope", problem: "not journal JSON" },
      { type: "value_recorded", data: "{}", problem: "not a number or a string" },
      { type: "run_started", data: "[1]", problem: "not an object" },
    ] as const;
    for (const { type, data, problem } of bad) {
      const read = () => readEntryData({ type, data, seq: 4, runId: "r-1" }, type);
      expect(read).toThrow(StoreCorruptError);
      expect(read).toThrow(problem);
      expect(read).toThrow(`journal entry 4 (${type}) of run r-1`);
    }
    expect(() => readEntryData({ type: "run_started", data: "{}" }, "run_failed")).toThrow(
      "it is a run_started entry, read as run_failed",
    );
  });

  it("accepts fields it does not know (a later version may add optional ones)", () => {
    expect(
      readEntryData({ type: "run_suspended", data: '{"wakeAt":1,"later":true}' }, "run_suspended"),
    ).toEqual({ wakeAt: 1, later: true });
  });
});
