// Proves the journal serializer round-trips every supported kind, refuses the rest with the
// path of the bad value, and enforces the payload limit at its exact edge.
import { describe, expect, it } from "vitest";
import { NonDeterminismError, RetryAfterError, StepTimeoutError } from "endure";
import {
  checkPayloadSize,
  decodeValue,
  encodeValue,
  byteLength,
} from "../../src/core/serialize.js";
import { PAYLOAD_DEPTH_MAX } from "../../src/core/limits.js";

const roundTrip = (v: unknown) => decodeValue(encodeValue(v, "value"));

describe("serializer", () => {
  it("round-trips plain JSON unchanged and as plain JSON text", () => {
    const value = { a: 1, b: "two", c: [true, null, { d: 2.5 }], e: "" };
    expect(encodeValue(value, "v")).toBe(JSON.stringify(value));
    expect(roundTrip(value)).toEqual(value);
  });

  it("round-trips Date, undefined, BigInt, Map, Set, RegExp, bytes and odd numbers", () => {
    const value = {
      when: new Date("2026-11-23T10:00:00.000Z"),
      invalid: new Date(Number.NaN),
      missing: undefined,
      list: [1, undefined, 3],
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([
        ["k", new Date(0)],
        [1, new Set([1n])],
      ]),
      set: new Set(["x", "y"]),
      re: /a+b/gi,
      bytes: new Uint8Array([0, 1, 255]),
      nums: [Number.NaN, Infinity, -Infinity, -0],
    };
    const back = roundTrip(value) as typeof value;
    expect(back.when).toBeInstanceOf(Date);
    expect(back.when.toISOString()).toBe("2026-11-23T10:00:00.000Z");
    expect(Number.isNaN(back.invalid.getTime())).toBe(true);
    expect("missing" in back).toBe(true);
    expect(back.missing).toBeUndefined();
    expect(back.list).toEqual([1, undefined, 3]);
    expect(back.big).toBe(12345678901234567890n);
    expect(back.map.get("k")).toEqual(new Date(0));
    expect(back.map.get(1)).toEqual(new Set([1n]));
    expect(back.set).toEqual(new Set(["x", "y"]));
    expect(back.re.source).toBe("a+b");
    expect(back.re.flags).toBe("gi");
    expect(back.bytes).toEqual(new Uint8Array([0, 1, 255]));
    expect(Number.isNaN(back.nums[0])).toBe(true);
    expect(back.nums.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(back.nums[3], -0)).toBe(true);
  });

  it("keeps an object that happens to use the tag key as data", () => {
    const value = { $endure: "date", v: "not a date" };
    expect(roundTrip(value)).toEqual(value);
  });

  it("restores errors with their class, name, code, own fields and cause", () => {
    const cause = new TypeError("inner");
    const error = Object.assign(new RangeError("outer", { cause }), { status: 429 });
    const back = roundTrip(error) as RangeError & { status: number };
    expect(back).toBeInstanceOf(RangeError);
    expect(back.message).toBe("outer");
    expect(back.status).toBe(429);
    expect(back.cause).toBeInstanceOf(TypeError);
    expect(back.stack).toBe(error.stack);
    const retry = roundTrip(new RetryAfterError("30s", "slow down")) as RetryAfterError;
    expect(retry).toBeInstanceOf(RetryAfterError);
    expect(retry.delay).toBe("30s");
    expect(retry.code).toBe("retry_after");
    const nd = roundTrip(
      new NonDeterminismError({ runId: "r", position: 3, recorded: "a", requested: "b" }),
    ) as NonDeterminismError;
    expect(nd).toBeInstanceOf(NonDeterminismError);
    expect(nd.position).toBe(3);
    const custom = roundTrip(Object.assign(new Error("x"), { name: "QuotaError" })) as Error;
    expect(custom.name).toBe("QuotaError");
    expect((roundTrip(new StepTimeoutError("t")) as Error).name).toBe("StepTimeoutError");
  });

  it("refuses functions, symbols, cycles and class instances, naming the path", () => {
    expect(() => encodeValue({ a: { f: () => 1 } }, "step 'x' result")).toThrow(
      /step 'x' result cannot be journaled: a function \(f\) at \$\.a\.f/,
    );
    expect(() => encodeValue([Symbol("s")], "v")).toThrow(/a symbol .* at \$\[0\]/);
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic["self"] = cyclic;
    expect(() => encodeValue(cyclic, "v")).toThrow(/a cycle .* at \$\.self/);
    class Account {
      constructor(readonly id: string) {}
    }
    expect(() => encodeValue({ acct: new Account("1") }, "v")).toThrow(
      /an instance of class Account, which cannot be restored on replay at \$\.acct/,
    );
    try {
      encodeValue(() => 1, "v");
    } catch (e) {
      expect((e as { code: string }).code).toBe("value_not_serializable");
    }
  });

  it("allows the same object twice when it is not a cycle", () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it("accepts nesting up to its depth limit and refuses one level more", () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = [v];
      return v;
    };
    expect(() => encodeValue(nest(PAYLOAD_DEPTH_MAX), "v")).not.toThrow();
    expect(() => encodeValue(nest(PAYLOAD_DEPTH_MAX + 1), "v")).toThrow(
      /nesting deeper than 256 levels/,
    );
  });

  it("measures UTF-8 bytes and refuses payloads one byte over the limit", () => {
    expect(byteLength("aé€😀")).toBe(1 + 2 + 3 + 4);
    const text = JSON.stringify("x".repeat(100_000));
    const size = byteLength(text);
    expect(checkPayloadSize(text, size, "step 's' result")).toBe(size);
    expect(() => checkPayloadSize(text, size - 1, "step 's' result")).toThrow(
      new RegExp(
        `step 's' result is ${size} bytes serialized, over the limit of ${size - 1} bytes`,
      ),
    );
  });
});
