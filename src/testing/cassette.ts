// Recorded model responses ("cassettes"): a Model that records the replies of a real model to
// a JSON file once, and answers the same requests from that file afterwards, so tests of agents
// run offline, fast and free, and still see what the real model said.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ModelReply, ModelRequest } from "../ai/messages.js";
import type { Model, ModelCall } from "../ai/model.js";
import { InvalidArgumentError, NonRetriableError } from "../core/errors.js";

/** The version of the cassette file format this code reads and writes. */
export const CASSETTE_FORMAT_VERSION = 1;

/**
 * How a cassette answers: `replay` only from the file (a request it has no reply for fails
 * the call), `record` always from the real model (overwriting what the file had for that
 * request), `auto` from the file when it has the reply, else from the real model, recorded.
 */
export type CassetteMode = "replay" | "record" | "auto";

/** Options of {@link cassette}. */
export interface CassetteOptions {
  /** The JSON file of recorded replies, created when recording. */
  path: string;
  /** Default `auto`. Use `replay` in CI so that no call reaches a real model. */
  mode?: CassetteMode;
}

interface CassetteEntry {
  readonly key: string;
  readonly model: string;
  readonly request: ModelRequest;
  readonly reply: ModelReply;
}

interface CassetteFile {
  readonly version: number;
  readonly entries: CassetteEntry[];
}

/**
 * Wraps `model` so that its replies are recorded to `options.path` and replayed from it. A
 * request is recognized by its content (system prompt, messages, tools, limits) and the model's
 * name, so the same conversation gets the same reply whatever the run id. Commit the file
 * with your tests.
 *
 * @example
 * ```ts
 * import { cassette } from "endure/testing";
 * import { openaiCompatible } from "endure/ai";
 *
 * const model = cassette(openaiCompatible({ baseURL, apiKey, model: "gpt-4.1-mini" }), {
 *   path: "test/cassettes/lead-scout.json",
 *   mode: process.env.CI ? "replay" : "auto",
 * });
 * const scout = agent("lead-scout", { model, tools, system: "You research leads." });
 * ```
 */
export function cassette(model: Model, options: CassetteOptions): Model {
  const mode = options.mode ?? "auto";
  if (!["replay", "record", "auto"].includes(mode))
    throw new InvalidArgumentError(
      `cassette mode must be "replay", "record" or "auto", got ${JSON.stringify(mode)}`,
    );
  const path = options.path;
  let file: CassetteFile | null = null;
  const load = (): CassetteFile => (file ??= readCassette(path));
  return {
    provider: model.provider,
    model: model.model,
    ...(model.prices === undefined ? {} : { prices: model.prices }),
    ...(model.retry === undefined ? {} : { retry: model.retry }),
    async generate(request: ModelRequest, call: ModelCall): Promise<ModelReply> {
      const key = requestKey(model.model, request);
      const recorded = load().entries.find((e) => e.key === key);
      if (recorded !== undefined && mode !== "record") {
        if (recorded.reply.text !== "") call.onText?.(recorded.reply.text);
        return recorded.reply;
      }
      if (mode === "replay")
        throw new NonRetriableError(
          `the cassette ${path} has no reply for this request to ${model.model} (key ${key.slice(0, 12)}); ` +
            'record it with mode "record" or "auto" against the real model',
        );
      const reply = await model.generate(request, call);
      const entries = load().entries.filter((e) => e.key !== key);
      entries.push({ key, model: model.model, request, reply });
      file = { version: CASSETTE_FORMAT_VERSION, entries };
      writeCassette(path, file);
      return reply;
    },
  };
}

/** A stable key of a request: the hash of its content with object keys in sorted order. */
function requestKey(model: string, request: ModelRequest): string {
  return createHash("sha256").update(canonicalJson({ model, request })).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function readCassette(path: string): CassetteFile {
  if (!existsSync(path)) return { version: CASSETTE_FORMAT_VERSION, entries: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InvalidArgumentError(
      `the cassette ${path} is not valid JSON (${(e as Error).message}); delete it and record again`,
    );
  }
  const f = parsed as Partial<CassetteFile>;
  if (f.version !== CASSETTE_FORMAT_VERSION || !Array.isArray(f.entries))
    throw new InvalidArgumentError(
      `the cassette ${path} is not a version ${CASSETTE_FORMAT_VERSION} cassette; delete it and record again`,
    );
  return { version: f.version, entries: f.entries };
}

/** Writes the whole file to a sibling, then renames it over: a crash leaves the old or the new. */
function writeCassette(path: string, file: CassetteFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
}
