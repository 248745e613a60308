// The codec on its own: AES-256-GCM envelopes that open under any key of the ring, refuse a
// missing or wrong key by its id, refuse an altered envelope, and the sealing wrapper that
// must handle every method of the Store contract (a method added later fails here).
import { describe, expect, it } from "vitest";
import { aesGcmCodec, isEndureError, KEY_BYTES, KEY_ID_LENGTH_MAX } from "endure";
import { sqliteStore } from "endure/sqlite";
import { openWithin } from "../../src/protect/codec.js";
import { sealedStore, STORE_PAYLOADS } from "../../src/protect/sealed-store.js";

const key = (byte: number) => Buffer.alloc(KEY_BYTES, byte);
const codec = aesGcmCodec({ keys: { k1: key(1) }, current: "k1" });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("aesGcmCodec", () => {
  it("seals into a JSON envelope that opens back, with a fresh nonce every time", () => {
    const text = JSON.stringify({
      name: "Zoë",
      note: "ünïcödé ✓",
      secret: "sk-live-0123456789abcdef",
      n: [1, 2, 3],
    });
    const a = codec.seal(text);
    const b = codec.seal(text);
    expect(a).not.toEqual(b);
    expect(JSON.parse(a)).toMatchObject({ $endure: "sealed", key: "k1" });
    // Long enough that random ciphertext never holds it by chance (two letters sometimes do).
    expect(a).not.toContain("sk-live-0123456789abcdef");
    expect(a).not.toContain("Zoë");
    expect(codec.open(a)).toBe(text);
    expect(codec.open(codec.seal(""))).toBe("");
  });

  it("opens payloads of every key in the ring and seals with the current one", () => {
    const old = codec.seal('"old"');
    const ring = aesGcmCodec({ keys: { k1: key(1), k2: key(2).toString("hex") }, current: "k2" });
    expect(ring.open(old)).toBe('"old"');
    expect(ring.seal('"new"')).toContain('"key":"k2"');
    expect(ring.currentKeyId).toBe("k2");
  });

  it("names the key id when the key is missing or is a different key", () => {
    const sealed = codec.seal('"x"');
    const missing = thrown(() => aesGcmCodec({ keys: { k2: key(2) }, current: "k2" }).open(sealed));
    expect(isEndureError(missing, "key_not_found")).toBe(true);
    expect(missing.message).toContain("'k1'");
    const wrong = thrown(() => aesGcmCodec({ keys: { k1: key(9) }, current: "k1" }).open(sealed));
    expect(isEndureError(wrong, "key_not_found")).toBe(true);
    expect(wrong.message).toContain("different key");
  });

  it("refuses an altered, cut or re-labelled envelope as tampered", () => {
    const sealed = codec.seal('"a secret"');
    const v = (JSON.parse(sealed) as { v: string }).v;
    const body = Buffer.from(v, "base64url");
    for (const i of [4, 16, body.length - 17, body.length - 1]) {
      const changed = Buffer.from(body);
      changed[i] = (changed[i] ?? 0) ^ 1;
      const e = thrown(() => codec.open(sealed.replace(v, changed.toString("base64url"))));
      expect(isEndureError(e, "payload_tampered"), `byte ${i}`).toBe(true);
    }
    expect(
      isEndureError(
        thrown(() => codec.open(sealed.replace(v, v.slice(0, 20)))),
        "payload_tampered",
      ),
    ).toBe(true);
    expect(
      isEndureError(
        thrown(() => codec.open(`${sealed} `)),
        "payload_tampered",
      ),
    ).toBe(true);
    // The same key under another id: the id is authenticated too.
    const twin = aesGcmCodec({ keys: { k1: key(1), k9: key(1) }, current: "k1" });
    const relabelled = sealed.replace('"key":"k1"', '"key":"k9"');
    expect(
      isEndureError(
        thrown(() => twin.open(relabelled)),
        "payload_tampered",
      ),
    ).toBe(true);
  });

  it("reads plaintext written before encryption, unless told to refuse it", () => {
    expect(codec.open('{"a":1}')).toBe('{"a":1}');
    const strict = aesGcmCodec({ keys: { k1: key(1) }, current: "k1", readPlaintext: false });
    expect(
      isEndureError(
        thrown(() => strict.open('{"a":1}')),
        "payload_tampered",
      ),
    ).toBe(true);
  });

  it("opens envelopes a store embedded in a value, also inside a JSON string", () => {
    const data = codec.seal('{"body":"hi \\"there\\""}');
    const comment = codec.seal(JSON.stringify('he said "yes"'));
    const composed = JSON.stringify({ id: "e1", data: "@", comment }).replace('"@"', data);
    expect(JSON.parse(openWithin(codec, composed))).toEqual({
      id: "e1",
      data: { body: 'hi "there"' },
      comment: 'he said "yes"',
    });
  });

  it("checks its options: key sizes, key ids up to KEY_ID_LENGTH_MAX, the current key", () => {
    const bad = (o: unknown) => thrown(() => aesGcmCodec(o as never));
    expect(isEndureError(bad(undefined), "invalid_argument")).toBe(true);
    expect(bad({ keys: { k: Buffer.alloc(16) }, current: "k" }).message).toContain("32 bytes");
    expect(bad({ keys: { k: "not a key" }, current: "k" }).message).toContain("openssl rand");
    expect(bad({ keys: { k: key(1) }, current: "other" }).message).toContain("not in keys");
    expect(bad({ keys: { "a b": key(1) }, current: "a b" }).message).toContain("key id");
    const longest = "k".repeat(KEY_ID_LENGTH_MAX);
    const ok = aesGcmCodec({ keys: { [longest]: key(1) }, current: longest });
    expect(ok.open(ok.seal("1"))).toBe("1");
    const over = `${longest}k`;
    expect(bad({ keys: { [over]: key(1) }, current: over }).message).toContain(
      `1 to ${KEY_ID_LENGTH_MAX} characters`,
    );
    expect(aesGcmCodec({ keys: { k: key(3).toString("base64") }, current: "k" })).toBeDefined();
  });
});

describe("the sealing store wrapper", () => {
  it("implements every method of the Store contract, each said to carry payloads or not", () => {
    const sealed = sealedStore(sqliteStore(":memory:"), codec) as unknown as Record<
      string,
      unknown
    >;
    for (const [name, kind] of Object.entries(STORE_PAYLOADS)) {
      expect(["sealed", "none"]).toContain(kind);
      if (name === "dialect" || name === "description") expect(typeof sealed[name]).toBe("string");
      else if (name === "runKeys") expect(typeof sealed[name], name).toBe("object");
      else if (name !== "watch") expect(typeof sealed[name], name).toBe("function");
    }
  });
});
