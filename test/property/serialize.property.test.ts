// Proves by random values (fast-check, seed printed) that the journal serializer either
// round-trips a value exactly, odd strings (lone surrogates, NUL, emoji halves) included, or
// refuses it with a typed endure error; and that encoding what it decoded gives the same text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isEndureError } from "endure";
import { decodeValue, encodeValue } from "../../src/core/serialize.js";
import { propertySeed } from "./seed.js";

const oddString = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom("\u0000", "\ud83d", "\ude00", "a\ud83db", "\u2028\u2029", "$endure", "__proto__"),
);

const value = fc.anything({
  key: oddString,
  values: [oddString, fc.double(), fc.bigInt(), fc.date({ noInvalidDate: false }), fc.boolean()],
  withMap: true,
  withSet: true,
  withBigInt: true,
  withDate: true,
  withNullPrototype: true,
  withSparseArray: true,
  withBoxedValues: true,
  withTypedArray: true,
  maxDepth: 4,
});

describe("serializer properties", () => {
  it("round-trips a value exactly or refuses it with a typed error", () => {
    fc.assert(
      fc.property(value, (v) => {
        let text: string;
        try {
          text = encodeValue(v, "value");
        } catch (e) {
          expect(isEndureError(e), String(e)).toBe(true);
          return;
        }
        const back = decodeValue(text);
        expect(encodeValue(back, "value")).toBe(text);
        if (!containsNegativeZeroOrSpecial(v)) expect(back).toEqual(v);
      }),
      { seed: propertySeed("serializer"), numRuns: 2_000 },
    );
  });

  it("round-trips every string, well-formed or not", () => {
    fc.assert(
      fc.property(oddString, (s) => {
        expect(decodeValue(encodeValue(s, "s"))).toBe(s);
        expect(decodeValue(encodeValue({ [s]: s }, "o"))).toEqual({ [s]: s });
      }),
      { seed: propertySeed("strings"), numRuns: 2_000 },
    );
  });
});

/** Values whose exact identity JSON-like equality cannot state (-0, boxed values, holes). */
function containsNegativeZeroOrSpecial(v: unknown, depth = 0): boolean {
  if (depth > 6) return true;
  if (Object.is(v, -0)) return true;
  if (v === null || typeof v !== "object") return false;
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return true;
  if (Array.isArray(v) && Object.keys(v).length !== v.length) return true;
  if (Object.getPrototypeOf(v) === null) return true;
  const children =
    v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Object.values(v);
  return children.some((c) => containsNegativeZeroOrSpecial(c, depth + 1));
}
