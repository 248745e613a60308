// Where the commands connect: a server (--url, ENDURE_URL, with --token / ENDURE_TOKEN) or a
// store opened directly (--store, ENDURE_STORE). Flags beat the environment, which beats the
// config file (--config, ENDURE_CONFIG, else ./endure.config.json when it exists).
import { existsSync, readFileSync } from "node:fs";
import { InvalidArgumentError } from "../core/errors.js";
import type { Backend } from "./backend.js";
import { openClientBackend } from "./client-backend.js";
import { codecFromKeys } from "./keys.js";
import { openStoreBackend } from "./store-backend.js";

/** The connection options every command accepts. */
export interface ConnectionFlags {
  readonly url?: string;
  readonly token?: string;
  readonly store?: string;
  readonly schema?: string;
  readonly config?: string;
  readonly workflows?: string;
  /** The key ring file of an encrypted store (else ENDURE_KEYS); see keys.ts. */
  readonly keys?: string;
}

/** The config file read when neither --config nor ENDURE_CONFIG names one. */
export const CONFIG_FILE_DEFAULT = "endure.config.json";

/** The help text on where commands connect, shown by `endure --help`. */
export const connectionHelp = `Connecting:
  --url <url> (ENDURE_URL) with --token <token> (ENDURE_TOKEN) talks to an endure server;
  --store <url> (ENDURE_STORE) opens a store directly (a SQLite file or a postgres:// URL);
  an encrypted store needs its key ring: --keys <file> (ENDURE_KEYS), a JSON file
  { "keys": { "<id>": "<32-byte key, base64 or hex>" }, "current": "<id>" }.
  Flags beat environment variables, which beat the config file: --config <file>
  (ENDURE_CONFIG), else ./${CONFIG_FILE_DEFAULT} when present, a JSON object with any of
  "url", "token", "store", "schema".`;

type Level = Pick<ConnectionFlags, "url" | "token" | "store" | "schema">;

function configLevel(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Level {
  const named = flags.config ?? env["ENDURE_CONFIG"];
  const path = named ?? (existsSync(CONFIG_FILE_DEFAULT) ? CONFIG_FILE_DEFAULT : undefined);
  if (path === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot read the config file ${path}: ${(e as Error).message}; it must be a JSON object`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`the config file ${path} must hold a JSON object`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!["url", "token", "store", "schema"].includes(key))
      throw new InvalidArgumentError(
        `the config file ${path} has an unknown field '${key}' (known: url, token, store, schema)`,
      );
    if (typeof value !== "string")
      throw new InvalidArgumentError(`the config file ${path}: '${key}' must be a string`);
    out[key] = value;
  }
  return out;
}

const defined = (level: Record<keyof Level, string | undefined>): Level =>
  Object.fromEntries(Object.entries(level).filter(([, v]) => v !== undefined && v !== ""));

/** The settings in force: each from the highest level that sets it; url or store, not both. */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Level {
  const levels: Level[] = [
    defined({
      url: flags.url,
      token: flags.token,
      store: flags.store,
      schema: flags.schema,
    }),
    defined({
      url: env["ENDURE_URL"],
      token: env["ENDURE_TOKEN"],
      store: env["ENDURE_STORE"],
      schema: env["ENDURE_SCHEMA"],
    }),
    defined({
      url: undefined,
      token: undefined,
      store: undefined,
      schema: undefined,
      ...configLevel(flags, env),
    }),
  ];
  const target = levels.find((l) => l.url !== undefined || l.store !== undefined);
  if (target?.url !== undefined && target.store !== undefined) {
    throw new InvalidArgumentError(
      "both a server url and a store are given at the same level; give one (--url or --store)",
    );
  }
  const token = levels.find((l) => l.token !== undefined)?.token;
  const schema = levels.find((l) => l.schema !== undefined)?.schema;
  return {
    ...(target?.url !== undefined ? { url: target.url } : {}),
    ...(target?.store !== undefined ? { store: target.store } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(schema !== undefined ? { schema } : {}),
  };
}

/** Opens the backend the flags, environment and config file choose. */
export async function openBackend(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  const c = resolveConnection(flags, env);
  if (c.store !== undefined) {
    const codec = codecFromKeys(flags.keys, env);
    return openStoreBackend(c.store, {
      ...(codec !== undefined ? { codec } : {}),
      ...(c.schema !== undefined ? { schema: c.schema } : {}),
      ...(flags.workflows !== undefined ? { workflowsModule: flags.workflows } : {}),
    });
  }
  if (c.url !== undefined) return openClientBackend(c.url, c.token);
  throw new InvalidArgumentError(
    "no server or store given: pass --url <server url> (or set ENDURE_URL) or --store <url> " +
      "(or set ENDURE_STORE); see endure --help",
  );
}
