// Encryption at rest: a codec seals every payload the store holds (AES-256-GCM from
// node:crypto) under the current key of a key ring, and opens payloads sealed under any key
// of the ring, so that entries written before a rotation stay readable.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  randomFillSync,
} from "node:crypto";
import { InvalidArgumentError, KeyNotFoundError, PayloadTamperedError } from "../core/errors.js";

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
/** Longest key id, in characters: 64. Key ids are `[A-Za-z0-9._-]`, stored beside each payload. */
export const KEY_ID_LENGTH_MAX = 64;
/** Bytes of a GCM nonce: 12, drawn at random for every payload. */
const IV_BYTES = 12;
/** Bytes of a GCM authentication tag: 16. */
const TAG_BYTES = 16;
/** Bytes of a key's fingerprint in every payload: 4, so that a wrong key under a known id is
 * told apart from a tampered payload. */
const FINGERPRINT_BYTES = 4;
/** Nonces drawn from the system's random source at once, to keep the per-payload cost low. */
const IV_POOL = 1024;

const KEY_ID = /^[A-Za-z0-9._-]+$/;

/** How a sealed payload starts. A sealed payload is JSON text: stores may embed it in JSON. */
export const SEALED_PREFIX = '{"$endure":"sealed","key":"';

/** A whole sealed envelope. Envelopes hold only these characters, so JSON never needs to
 * escape them. */
const ENVELOPE_WHOLE =
  /^\{"\$endure":"sealed","key":"([A-Za-z0-9._:-]+)","v":"([A-Za-z0-9_-]*)"\}$/;
/**
 * Every envelope inside a text, in one pass (so that opened text is never scanned again):
 * as a JSON value (groups 1, 2), or inside a JSON string (groups 3, 4), where a store put a
 * sealed text in a string field.
 */
const WITHIN = new RegExp(
  [
    /\{"\$endure":"sealed","key":"([A-Za-z0-9._:-]+)","v":"([A-Za-z0-9_-]*)"\}/.source,
    /\{\\"\$endure\\":\\"sealed\\",\\"key\\":\\"([A-Za-z0-9._:-]+)\\",\\"v\\":\\"([A-Za-z0-9_-]*)\\"\}/
      .source,
  ].join("|"),
  "g",
);

/**
 * Seals and opens the payloads a store holds: run inputs, step results, outputs, errors,
 * events, signals, wait values and details, approval comments and stream parts. Made by
 * {@link aesGcmCodec}; pass it as `createEngine({ codec })`.
 */
export interface Codec {
  /** The key id new payloads are sealed with. */
  readonly currentKeyId: string;
  /** Seals payload text (JSON) into a sealed envelope, itself JSON text. */
  seal(text: string): string;
  /**
   * Opens a sealed envelope into the text that was sealed. Text that is not sealed (written
   * before the codec was configured) comes back as it is, unless the codec refuses plaintext.
   * Throws {@link KeyNotFoundError} for a key it does not hold and
   * {@link PayloadTamperedError} for a payload that fails authentication.
   */
  open(text: string): string;
}

/** Options of {@link aesGcmCodec}. */
export interface AesGcmCodecOptions {
  /**
   * The key ring: key id to a 32-byte key, as bytes, base64 (44 characters) or hex (64
   * characters). Keep every key that payloads were sealed with: a payload stays readable
   * while its key is in the ring.
   */
  keys: Readonly<Record<string, Uint8Array | string>>;
  /** The id of the key new payloads are sealed with; one of `keys`. */
  current: string;
  /**
   * Whether stored payloads that are not sealed (written before encryption was turned on) are
   * read as they are. Default true; false refuses them with {@link PayloadTamperedError}, so
   * that nobody with write access to the database can slip a plaintext value in.
   */
  readPlaintext?: boolean;
  /**
   * Whether each run gets a data key of its own (default false), sealed by the ring's key and
   * kept in the store beside the run. Its payloads are sealed under that key, so that
   * `engine.shred(runId)` (or `endure shred`) can make them unreadable by deleting it, while
   * the structure of its journal stays (see docs/security.md). Needs a store that keeps run
   * keys (SQLite and PostgreSQL do).
   */
  runKeys?: boolean;
}

/** A key of the ring, or a run's data key. */
export interface RingKey {
  readonly key: Buffer;
  readonly fingerprint: Buffer;
  readonly aad: Buffer;
}

/**
 * A codec that seals payloads with AES-256-GCM under `current` and opens payloads sealed
 * under any key of the ring. Each payload gets a random 96-bit nonce; the key id and the
 * key's fingerprint travel with it and are authenticated.
 *
 * @example
 * ```ts
 * const codec = aesGcmCodec({
 *   keys: { "2026-12": process.env.ENDURE_KEY_2026_12!, "2026-06": process.env.ENDURE_KEY_2026_06! },
 *   current: "2026-12",
 * });
 * const engine = await createEngine({ store: sqliteStore("./endure.db"), workflows, codec });
 * ```
 */
export function aesGcmCodec(options: AesGcmCodecOptions): Codec {
  if (typeof options !== "object" || options === null || typeof options.keys !== "object") {
    throw new InvalidArgumentError(
      "aesGcmCodec needs { keys: { <id>: <32-byte key> }, current: <id> }",
    );
  }
  const ring = new Map<string, RingKey>();
  for (const [id, raw] of Object.entries(options.keys)) {
    checkKeyId(id);
    const key = keyBytes(id, raw);
    ring.set(id, {
      key,
      fingerprint: fingerprintOf(key),
      aad: Buffer.from(`endure-sealed-v1:${id}`, "utf8"),
    });
  }
  const current = ring.get(options.current);
  if (current === undefined) {
    throw new InvalidArgumentError(
      `aesGcmCodec current key '${String(options.current)}' is not in keys ` +
        `(${[...ring.keys()].join(", ") || "none"}): add it, or name one of them`,
    );
  }
  return new AesGcmCodec(
    options.current,
    current,
    ring,
    options.readPlaintext ?? true,
    options.runKeys ?? false,
  );
}

class AesGcmCodec implements Codec {
  private readonly ivs = Buffer.alloc(IV_BYTES * IV_POOL);
  private ivAt = IV_POOL;
  private readonly prefix: string;

  constructor(
    readonly currentKeyId: string,
    private readonly current: RingKey,
    private readonly ring: ReadonlyMap<string, RingKey>,
    private readonly readPlaintext: boolean,
    readonly runKeys: boolean,
  ) {
    this.prefix = `${SEALED_PREFIX}${currentKeyId}","v":"`;
  }

  seal(text: string): string {
    return this.sealUnder(this.current, this.prefix, text);
  }

  /** Seals `text` under a run's data key. */
  sealWith(key: DataKey, text: string): string {
    return this.sealUnder(key.ring, key.prefix, text);
  }

  private sealUnder(key: RingKey, prefix: string, text: string): string {
    if (this.ivAt === IV_POOL) {
      randomFillSync(this.ivs);
      this.ivAt = 0;
    }
    const iv = this.ivs.subarray(this.ivAt * IV_BYTES, ++this.ivAt * IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key.key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(key.aad);
    const head = Buffer.concat([key.fingerprint, iv]);
    const body = cipher.update(text, "utf8");
    const last = cipher.final();
    const sealed = Buffer.concat([head, body, last, cipher.getAuthTag()]);
    return `${prefix}${sealed.toString("base64url")}"}`;
  }

  /** A new data key for a run, and its bytes sealed by the ring's current key. */
  createDataKey(): { key: DataKey; wrapped: string } {
    const material = randomBytes(KEY_BYTES + DATA_KEY_ID_BYTES);
    const id = material.subarray(KEY_BYTES).toString("base64url");
    const bytes = material.subarray(0, KEY_BYTES);
    const wrapped = this.seal(JSON.stringify({ id, k: bytes.toString("base64") }));
    return { key: dataKey(id, bytes), wrapped };
  }

  /** Opens a data key sealed by {@link createDataKey} (under any key of the ring). */
  unwrapDataKey(wrapped: string): DataKey {
    const { id, k } = JSON.parse(this.open(wrapped)) as { id: string; k: string };
    return dataKey(id, Buffer.from(k, "base64"));
  }

  /** A data key's wrapping under the current ring key, or null when it is under it already. */
  rewrapDataKey(wrapped: string): string | null {
    if (wrapped.startsWith(this.prefix)) return null;
    return this.seal(this.open(wrapped));
  }

  open(text: string, dataKeys?: DataKeyLookup): string {
    if (!text.startsWith(SEALED_PREFIX)) {
      if (this.readPlaintext) return text;
      throw new PayloadTamperedError(
        "a stored payload is not sealed, and this codec refuses plaintext (readPlaintext: false)",
      );
    }
    const m = ENVELOPE_WHOLE.exec(text);
    if (m === null) throw new PayloadTamperedError("a sealed payload's envelope is malformed");
    return this.openEnvelope(m[1] as string, m[2] as string, dataKeys);
  }

  private openEnvelope(id: string, encoded: string, dataKeys?: DataKeyLookup): string {
    const entry = id.startsWith(DATA_KEY_PREFIX)
      ? this.dataKeyOf(id.slice(DATA_KEY_PREFIX.length), dataKeys)
      : this.ring.get(id);
    if (entry === undefined) {
      throw new KeyNotFoundError(
        `a stored payload is sealed with key '${id}', which is not in this engine's key ring ` +
          `(${[...this.ring.keys()].join(", ")}): add key '${id}' to aesGcmCodec({ keys })`,
      );
    }
    const bytes = Buffer.from(encoded, "base64url");
    if (bytes.length < FINGERPRINT_BYTES + IV_BYTES + TAG_BYTES) {
      throw new PayloadTamperedError(`a payload sealed with key '${id}' is truncated`);
    }
    const fingerprint = bytes.subarray(0, FINGERPRINT_BYTES);
    if (!fingerprint.equals(entry.fingerprint)) {
      throw new KeyNotFoundError(
        `a stored payload is sealed with key '${id}', but the key this engine holds under ` +
          `'${id}' is a different key (its fingerprint differs): give key '${id}' the bytes ` +
          "it had when the payload was written",
      );
    }
    const iv = bytes.subarray(FINGERPRINT_BYTES, FINGERPRINT_BYTES + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(FINGERPRINT_BYTES + IV_BYTES, bytes.length - TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", entry.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(entry.aad);
    decipher.setAuthTag(tag);
    try {
      const head = decipher.update(body);
      return Buffer.concat([head, decipher.final()]).toString("utf8");
    } catch {
      throw new PayloadTamperedError(
        `a payload sealed with key '${id}' failed authentication: it was changed after it was written`,
      );
    }
  }

  private dataKeyOf(id: string, dataKeys: DataKeyLookup | undefined): RingKey {
    const key = dataKeys?.(id);
    if (key === undefined) {
      throw new KeyNotFoundError(
        `a stored payload is sealed with a run's data key ('${id}'), which this engine has not ` +
          "loaded: read it through the engine that holds the run's key ring",
      );
    }
    return key.ring;
  }

  /** Opens every envelope inside `text` (a value a store composed from sealed parts). */
  openWithin(text: string, dataKeys?: DataKeyLookup): string {
    if (!text.includes('"$endure\\":\\"sealed') && !text.includes('"$endure":"sealed"'))
      return this.open(text, dataKeys);
    return text.replace(
      WITHIN,
      (_m, id?: string, v?: string, escapedId?: string, escapedV?: string) =>
        id !== undefined
          ? this.openEnvelope(id, v ?? "", dataKeys)
          : // The sealed text was a JSON string: its content, as escaped inside another string.
            this.openEnvelope(escapedId ?? "", escapedV ?? "", dataKeys).slice(1, -1),
    );
  }
}

/**
 * Opens every sealed envelope inside `text`, which a store may have composed from sealed
 * parts (an event's data inside a wait's value, a comment inside an approval's result).
 */
export function openWithin(codec: Codec, text: string, dataKeys?: DataKeyLookup): string {
  if (codec instanceof AesGcmCodec) return codec.openWithin(text, dataKeys);
  return codec.open(text);
}

/** Opens `text`, finding runs' data keys through `dataKeys`. */
export function openWith(codec: Codec, text: string, dataKeys: DataKeyLookup): string {
  if (codec instanceof AesGcmCodec) return codec.open(text, dataKeys);
  return codec.open(text);
}

/** The codec's run key operations, when it gives runs keys of their own (`runKeys: true`). */
export function runKeyCodecOf(codec: Codec): RunKeyCodec | null {
  return codec instanceof AesGcmCodec && codec.runKeys ? codec : null;
}

/** What a codec does with runs' data keys (see {@link AesGcmCodecOptions.runKeys}). */
export interface RunKeyCodec {
  createDataKey(): { key: DataKey; wrapped: string };
  unwrapDataKey(wrapped: string): DataKey;
  rewrapDataKey(wrapped: string): string | null;
  sealWith(key: DataKey, text: string): string;
}

/** A run's data key, opened. */
export interface DataKey {
  readonly id: string;
  readonly ring: RingKey;
  readonly prefix: string;
}

/** Finds an opened data key by its id. */
export type DataKeyLookup = (id: string) => DataKey | undefined;

/** How the key id of a payload sealed under a run's data key starts. */
const DATA_KEY_PREFIX = "run:";
/** Random bytes of a data key's id: 12 (16 characters). */
const DATA_KEY_ID_BYTES = 12;

/** Whether `text` holds a payload sealed under a run's data key. */
export function holdsDataKeyPayload(text: string): boolean {
  return text.includes('"key":"run:') || text.includes('\\"key\\":\\"run:');
}

function dataKey(id: string, bytes: Buffer): DataKey {
  const name = `${DATA_KEY_PREFIX}${id}`;
  return {
    id,
    ring: {
      key: bytes,
      fingerprint: fingerprintOf(bytes),
      aad: Buffer.from(`endure-sealed-v1:${name}`, "utf8"),
    },
    prefix: `${SEALED_PREFIX}${name}","v":"`,
  };
}

function checkKeyId(id: string): void {
  if (id.length === 0 || id.length > KEY_ID_LENGTH_MAX || !KEY_ID.test(id)) {
    throw new InvalidArgumentError(
      `aesGcmCodec key id '${id}' must be 1 to ${KEY_ID_LENGTH_MAX} characters of A-Z, a-z, 0-9, '.', '_' or '-'`,
    );
  }
}

function keyBytes(id: string, raw: Uint8Array | string): Buffer {
  let key: Buffer | null = null;
  if (raw instanceof Uint8Array) key = Buffer.from(raw);
  else if (typeof raw === "string") {
    if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, "hex");
    else if (/^[A-Za-z0-9+/]{43}=$/.test(raw)) key = Buffer.from(raw, "base64");
  }
  if (key === null || key.length !== KEY_BYTES) {
    throw new InvalidArgumentError(
      `aesGcmCodec key '${id}' must be ${KEY_BYTES} bytes: a Uint8Array, base64 (44 characters) ` +
        "or hex (64 characters); make one with `openssl rand -base64 32`",
    );
  }
  return key;
}

function fingerprintOf(key: Buffer): Buffer {
  return createHmac("sha256", key)
    .update("endure key fingerprint")
    .digest()
    .subarray(0, FINGERPRINT_BYTES);
}
