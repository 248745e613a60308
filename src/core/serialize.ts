// Deterministic: turns values into journal text and back, so a first run and a replay see
// identical values. Plain JSON passes through untouched; other kinds are tagged objects.
import { errorClassFor } from "./error-registry.js";
import {
  isEndureError,
  KeyNotFoundError,
  PayloadTooLargeError,
  SerializationError,
} from "./errors.js";
import { PAYLOAD_DEPTH_MAX } from "./limits.js";

const TAG = "$endure";

/** The text a payload of a shredded run reads as: its data key is gone. */
export const SHREDDED_TEXT = '{"$endure":"shredded"}';
/** What a payload of a shredded run decodes to: `{ $endure: "shredded" }`. */
export const SHREDDED: Readonly<{ $endure: "shredded" }> = Object.freeze({ $endure: "shredded" });

/**
 * Whether `value` is a payload of a shredded run (see `engine.shred`). A user's value never
 * is: objects that carry the `$endure` key are escaped when they are journaled.
 *
 * @example
 * ```ts
 * const run = await engine.getRun("lead-42");
 * if (isShredded(run?.input)) console.log("erased");
 * ```
 */
export function isShredded(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[TAG] === "shredded" &&
    Object.keys(value).length === 1
  );
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Encodes a value as journal text. Supports JSON values plus `undefined`, `BigInt`, `Date`,
 * `Map`, `Set`, `RegExp`, `Uint8Array`, non-finite numbers and errors. Refuses functions,
 * symbols, cycles and class instances with a {@link SerializationError} naming the path.
 * `what` names the value in messages ("step 'plan' result").
 */
export function encodeValue(value: unknown, what: string): string {
  return JSON.stringify(toJson(value, what, "$", 0, new Set()));
}

/** Decodes journal text made by {@link encodeValue}. */
export function decodeValue(text: string): unknown {
  return fromJson(JSON.parse(text) as Json);
}

/** UTF-8 length of `text` in bytes. */
export function byteLength(text: string): number {
  if (text.length * 3 < 65_536) {
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c < 0xdc00) {
        bytes += 4;
        i++;
      } else bytes += 3;
    }
    return bytes;
  }
  return Buffer.byteLength(text, "utf8");
}

/** Refuses `text` when it is over `bytesMax`; returns its size in bytes. */
export function checkPayloadSize(text: string, bytesMax: number, what: string): number {
  // A string of n UTF-16 units is at most 3n bytes: most payloads skip the exact count.
  if (text.length * 3 <= bytesMax && text.length * 3 < 65_536) return text.length;
  const bytes = byteLength(text);
  if (bytes > bytesMax) {
    throw new PayloadTooLargeError(
      `${what} is ${bytes} bytes serialized, over the limit of ${bytesMax} bytes; ` +
        "store large data elsewhere (a file or blob store) and journal its key, give the " +
        "engine a blob store for large step results and outputs (the `blobs` option), " +
        "or raise limits.payloadBytesMax",
    );
  }
  return bytes;
}

/** Sets an own property, also one named `__proto__` (an assignment would set the prototype
 * instead and lose the key). */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function fail(what: string, path: string, problem: string): never {
  throw new SerializationError(
    `${what} cannot be journaled: ${problem} at ${path}. ` +
      "Return plain data (objects, arrays, strings, numbers, booleans, null, undefined, " +
      "Date, Map, Set, BigInt, Uint8Array, errors) from steps and workflows",
  );
}

function toJson(
  value: unknown,
  what: string,
  path: string,
  depth: number,
  seen: Set<object>,
): Json {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: "number", v: Object.is(value, -0) ? "-0" : String(value) };
    case "undefined":
      return { [TAG]: "undefined" };
    case "bigint":
      return { [TAG]: "bigint", v: value.toString() };
    case "function":
      return fail(what, path, `a function (${value.name || "anonymous"})`);
    case "symbol":
      return fail(what, path, `a symbol (${value.toString()})`);
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth >= PAYLOAD_DEPTH_MAX)
    fail(what, path, `nesting deeper than ${PAYLOAD_DEPTH_MAX} levels`);
  if (seen.has(obj)) fail(what, path, "a cycle (the value contains itself)");
  seen.add(obj);
  try {
    return objectToJson(obj, what, path, depth + 1, seen);
  } finally {
    seen.delete(obj);
  }
}

function objectToJson(
  obj: object,
  what: string,
  path: string,
  depth: number,
  seen: Set<object>,
): Json {
  if (Array.isArray(obj)) {
    const out: Json[] = new Array<Json>(obj.length);
    for (let i = 0; i < obj.length; i++)
      out[i] = toJson(obj[i], what, `${path}[${i}]`, depth, seen);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null)
    return plainToJson(obj, what, path, depth, seen);
  if (obj instanceof Date)
    return { [TAG]: "date", v: Number.isNaN(obj.getTime()) ? null : obj.toISOString() };
  if (obj instanceof Map) {
    const entries: Json[] = [];
    let i = 0;
    for (const [k, v] of obj) {
      entries.push([
        toJson(k, what, `${path}.keys[${i}]`, depth, seen),
        toJson(v, what, `${path}.get(${i})`, depth, seen),
      ]);
      i++;
    }
    return { [TAG]: "map", v: entries };
  }
  if (obj instanceof Set) {
    const items: Json[] = [];
    let i = 0;
    for (const v of obj) items.push(toJson(v, what, `${path}.values[${i++}]`, depth, seen));
    return { [TAG]: "set", v: items };
  }
  if (obj instanceof Error) return errorToJson(obj, what, path, depth, seen);
  if (obj instanceof RegExp) return { [TAG]: "regexp", v: obj.source, flags: obj.flags };
  if (obj instanceof Uint8Array)
    return {
      [TAG]: "bytes",
      v: Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString("base64"),
    };
  const ctor = (proto as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
  return fail(what, path, `an instance of class ${ctor}, which cannot be restored on replay`);
}

function plainToJson(
  obj: object,
  what: string,
  path: string,
  depth: number,
  seen: Set<object>,
): Json {
  const out: { [key: string]: Json } = {};
  const rec = obj as Record<string, unknown>;
  for (const key in rec) {
    if (!Object.prototype.hasOwnProperty.call(rec, key)) continue;
    define(out, key, toJson(rec[key], what, `${path}.${key}`, depth, seen));
  }
  for (const sym of Object.getOwnPropertySymbols(obj)) {
    fail(what, `${path}[${sym.toString()}]`, "a symbol-keyed property");
  }
  // An object that happens to carry our tag key is escaped so decoding leaves it alone.
  return TAG in out ? { [TAG]: "object", v: out } : out;
}

function errorToJson(
  err: Error,
  what: string,
  path: string,
  depth: number,
  seen: Set<object>,
): Json {
  const out: { [key: string]: Json } = { [TAG]: "error", name: err.name, message: err.message };
  if (isEndureError(err)) out["endure"] = true;
  if (err.stack !== undefined) out["stack"] = err.stack;
  const props: { [key: string]: Json } = {};
  const rec = err as unknown as Record<string, unknown>;
  for (const key of Object.keys(err)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    if (typeof rec[key] === "function") continue;
    define(props, key, toJson(rec[key], what, `${path}.${key}`, depth, seen));
  }
  if (Object.keys(props).length > 0) out["props"] = props;
  if (err.cause !== undefined) out["cause"] = toJson(err.cause, what, `${path}.cause`, depth, seen);
  return out;
}

function fromJson(json: Json): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(fromJson);
  const tag = json[TAG];
  if (tag === undefined) {
    const out: Record<string, unknown> = {};
    for (const key in json) define(out, key, fromJson(json[key] as Json));
    return out;
  }
  return fromTagged(tag, json);
}

function fromTagged(tag: Json, json: { [key: string]: Json }): unknown {
  const v = json["v"];
  switch (tag) {
    case "undefined":
      return undefined;
    case "number":
      return v === "-0" ? -0 : Number(v);
    case "bigint":
      return BigInt(v as string);
    case "date":
      return new Date(v === null ? Number.NaN : (v as string));
    case "map":
      return new Map((v as Json[][]).map(([k, x]) => [fromJson(k as Json), fromJson(x as Json)]));
    case "set":
      return new Set((v as Json[]).map(fromJson));
    case "regexp":
      return new RegExp(v as string, json["flags"] as string);
    case "bytes":
      return new Uint8Array(Buffer.from(v as string, "base64"));
    case "error":
      return errorFromJson(json);
    case "object": {
      const out: Record<string, unknown> = {};
      const inner = v as { [key: string]: Json };
      for (const key in inner) define(out, key, fromJson(inner[key] as Json));
      return out;
    }
    case "shredded":
      return SHREDDED;
    case "sealed": {
      // A sealed payload reaches decoding only when nothing opened it: no codec holds its key.
      const key = typeof json["key"] === "string" ? json["key"] : "?";
      throw new KeyNotFoundError(
        `a stored value is encrypted with key '${key}', and this engine has no codec with ` +
          `that key: pass createEngine({ codec: aesGcmCodec({ keys: { "${key}": ... } }) }) ` +
          "with the key it was written with",
      );
    }
    default:
      throw new SerializationError(
        `journal value has an unknown tag ${JSON.stringify(tag)}; it was written by a newer endure`,
      );
  }
}

function errorFromJson(json: { [key: string]: Json }): Error {
  const name = json["name"] as string;
  const cls = errorClassFor(name, json["endure"] === true);
  const err = Object.create(cls.prototype as object) as Error;
  const define = (key: string, value: unknown) =>
    Object.defineProperty(err, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  define("message", json["message"]);
  if (json["stack"] !== undefined) define("stack", json["stack"]);
  if (err.name !== name) define("name", name);
  const props = json["props"];
  if (props !== undefined && props !== null && typeof props === "object" && !Array.isArray(props)) {
    for (const key in props)
      (err as unknown as Record<string, unknown>)[key] = fromJson(props[key] as Json);
  }
  if (json["cause"] !== undefined) define("cause", fromJson(json["cause"]));
  return err;
}
