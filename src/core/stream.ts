// Deterministic: parts of a run's output stream, and how they are checked and encoded.
import { InvalidArgumentError } from "./errors.js";
import { STREAM_PART_BYTES_MAX } from "./limits.js";
import { checkPayloadSize, encodeValue } from "./serialize.js";

/**
 * One part of a run's output stream: a JSON object with a string `type`. The parts endure
 * writes follow the AI SDK's UI message stream (`text-delta`, `tool-output-available`,
 * ...); custom parts should use a `data-` type, such as `{ type: "data-progress", data }`.
 */
export interface StreamPart {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * A part on its way to the store. `key` makes an append idempotent: a part whose key the
 * run's stream already holds is skipped. Parts emitted by workflow code carry a key (their
 * place in the code's order), so a replay emits nothing twice; parts emitted by step bodies
 * carry none.
 */
export interface NewChunk {
  readonly key: string | null;
  /** When it was emitted, epoch milliseconds. */
  readonly at: number;
  /** The encoded part (see `serialize.ts`). */
  readonly data: string;
}

/** The part a store writes at the last place of a full stream (see STREAM_PARTS_MAX_DEFAULT). */
export function streamFullPart(limit: number): string {
  return encodePart({ type: "data-endure-stream-full", data: { limit } }, "a stream-full part");
}

/** Checks and encodes a part; `what` names it in errors. */
export function encodePart(part: unknown, what: string): string {
  if (typeof part !== "object" || part === null || Array.isArray(part)) {
    throw new InvalidArgumentError(
      `${what} must be an object with a string 'type', such as { type: "data-progress", data: {...} }`,
    );
  }
  const type = (part as { type?: unknown }).type;
  if (typeof type !== "string" || type.length === 0) {
    throw new InvalidArgumentError(
      `${what} needs a non-empty string 'type'; custom parts use a 'data-' type such as "data-progress"`,
    );
  }
  const data = encodeValue(part, what);
  checkPayloadSize(data, STREAM_PART_BYTES_MAX, what);
  return data;
}
