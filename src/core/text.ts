// Deterministic: the one check every string passes before endure stores it (ids, names, keys,
// comments): a string, well-formed UTF-16, no NUL character, of bounded length.
import { InvalidArgumentError } from "./errors.js";
import { RUN_ID_LENGTH_MAX } from "./limits.js";

/** A lone surrogate: a high one not followed by a low one, or a low one without a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What {@link checkText} accepts besides a length limit. */
export interface TextRules {
  /** Whether `""` is accepted (a concurrency key may be empty; names and ids may not). */
  readonly emptyOk?: boolean;
}

/**
 * Refuses what cannot be stored and read back as the same string on every store: a non-string,
 * an empty string (unless `emptyOk`), more than `lengthMax` UTF-16 code units, a lone surrogate
 * (a string cut in the middle of an emoji: SQLite and PostgreSQL store it as bytes that read
 * back as another string), or a NUL character (PostgreSQL refuses it in text, failing every
 * write committed with it). `what` names the argument in the error.
 *
 * @example
 * ```ts
 * checkText(runId, "run id", RUN_ID_LENGTH_MAX);
 * ```
 */
export function checkText(
  value: unknown,
  what: string,
  lengthMax: number,
  rules: TextRules = {},
): asserts value is string {
  if (typeof value !== "string") {
    const kind = rules.emptyOk === true ? "a string" : "a non-empty string";
    throw new InvalidArgumentError(`${what} must be ${kind}, got ${describe(value)}`);
  }
  if (value.length === 0 && rules.emptyOk !== true) {
    throw new InvalidArgumentError(`${what} must be a non-empty string, got an empty string`);
  }
  if (value.length > lengthMax) {
    throw new InvalidArgumentError(
      `${what} is ${value.length} characters long; the limit is ${lengthMax}`,
    );
  }
  const nul = value.indexOf("\u0000");
  if (nul >= 0) {
    throw new InvalidArgumentError(
      `${what} ${preview(value)} holds a NUL character at index ${nul}; ` +
        "remove it (no store keeps NUL in text)",
    );
  }
  const lone = LONE_SURROGATE.exec(value);
  if (lone !== null) {
    throw new InvalidArgumentError(
      `${what} ${preview(value)} holds a lone UTF-16 surrogate at index ${lone.index} ` +
        "(a string cut in the middle of a character, such as an emoji); pass whole characters",
    );
  }
}

/** Refuses a run id that is not a storable string of at most {@link RUN_ID_LENGTH_MAX}
 * characters; lookups check it too, so that no id reads another run's row. */
export function checkRunId(value: unknown, what = "run id"): asserts value is string {
  checkText(value, what, RUN_ID_LENGTH_MAX);
}

/** Whether `value` is a string endure can store as it is (see {@link checkText}). */
export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : typeof value;
}

/** The start of a string for an error message, with odd characters escaped. */
function preview(value: string): string {
  const head = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return JSON.stringify(head);
}
