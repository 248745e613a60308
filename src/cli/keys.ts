// The key ring the commands open an encrypted store with: --keys <file>, else the file named by
// ENDURE_KEYS. The file is JSON, { "keys": { "<id>": "<32-byte key, base64 or hex>" },
// "current": "<id>", "runKeys"?: boolean }: the same options aesGcmCodec takes.
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../core/errors.js";
import type { Store } from "../store/store.js";
import { chainedStore } from "../protect/chained-store.js";
import { aesGcmCodec, type Codec } from "../protect/codec.js";
import { sealedStore } from "../protect/sealed-store.js";

/** The environment variable naming the key ring file when --keys is not given. */
export const KEYS_ENV = "ENDURE_KEYS";

/** The help line on --keys, shared by every command that opens a store. */
export const KEYS_OPTION_HELP = `key ring file of an encrypted store, JSON; see endure --help (${KEYS_ENV})`;

const FIELDS = ["keys", "current", "runKeys", "readPlaintext"];

/**
 * The codec of the key ring file `--keys` (else `ENDURE_KEYS`) names, or undefined when
 * neither is set. A file that cannot be read or does not hold a valid ring is an
 * {@link InvalidArgumentError} naming the file and what is wrong.
 */
export function codecFromKeys(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Codec | undefined {
  const path = flag !== undefined && flag !== "" ? flag : env[KEYS_ENV];
  if (path === undefined || path === "") return undefined;
  const from = flag !== undefined && flag !== "" ? "--keys" : KEYS_ENV;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot read the key ring file ${path} (${from}): ${(e as Error).message}; it must be ` +
        'JSON: { "keys": { "<id>": "<32-byte key, base64 or hex>" }, "current": "<id>" }',
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`the key ring file ${path} (${from}) must hold a JSON object`);
  const ring = parsed as Record<string, unknown>;
  for (const key of Object.keys(ring)) {
    if (!FIELDS.includes(key))
      throw new InvalidArgumentError(
        `the key ring file ${path} has an unknown field '${key}' (known: ${FIELDS.join(", ")})`,
      );
  }
  const keys = ring["keys"];
  if (typeof keys !== "object" || keys === null || Array.isArray(keys))
    throw new InvalidArgumentError(
      `the key ring file ${path}: "keys" must be an object of key id to key (base64 or hex)`,
    );
  for (const [id, value] of Object.entries(keys as Record<string, unknown>)) {
    if (typeof value !== "string")
      throw new InvalidArgumentError(
        `the key ring file ${path}: key '${id}' must be a string (32 bytes, base64 or hex)`,
      );
  }
  if (typeof ring["current"] !== "string")
    throw new InvalidArgumentError(
      `the key ring file ${path}: "current" must name the key new payloads are sealed with`,
    );
  for (const flagName of ["runKeys", "readPlaintext"]) {
    if (ring[flagName] !== undefined && typeof ring[flagName] !== "boolean")
      throw new InvalidArgumentError(`the key ring file ${path}: "${flagName}" must be a boolean`);
  }
  try {
    return aesGcmCodec({
      keys: keys as Record<string, string>,
      current: ring["current"],
      ...(typeof ring["runKeys"] === "boolean" ? { runKeys: ring["runKeys"] } : {}),
      ...(typeof ring["readPlaintext"] === "boolean"
        ? { readPlaintext: ring["readPlaintext"] }
        : {}),
    });
  } catch (e) {
    throw new InvalidArgumentError(`the key ring file ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * The store read the way an engine with `codec` reads it: hash-chain envelopes stripped, then
 * payloads opened. Without a codec, the store itself.
 */
export function openedStore(store: Store, codec: Codec | undefined): Store {
  return codec === undefined ? store : sealedStore(chainedStore(store, false), codec);
}
