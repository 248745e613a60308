// Deterministic: parses durations such as "500ms", "30s", "5m", "2h", "7d" into milliseconds.
import { InvalidArgumentError } from "./errors.js";
import { DURATION_MS_MAX } from "./limits.js";

/** A duration: milliseconds as a number, or a string such as `"500ms"`, `"30s"`, `"1h30m"`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;

/**
 * Turns a duration into milliseconds. `what` names the option in the error message.
 *
 * @example
 * ```ts
 * parseDuration("1h30m", "timeout") // 5_400_000
 * ```
 */
export function parseDuration(value: Duration, what: string): number {
  const ms = typeof value === "number" ? value : parseText(value.trim(), what);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-negative duration, got ${JSON.stringify(value)}; ` +
        `use milliseconds or a string such as "30s", "5m", "2h" or "7d"`,
    );
  }
  if (ms > DURATION_MS_MAX) {
    throw new InvalidArgumentError(
      `${what} is ${ms} ms, longer than the ${DURATION_MS_MAX} ms (10 years) endure accepts`,
    );
  }
  return Math.round(ms);
}

function parseText(text: string, what: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    matched = PART.lastIndex;
    while (text[matched] === " ") matched++;
    PART.lastIndex = matched;
  }
  if (matched !== text.length || text.length === 0) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(text)} is not a duration; use a number of milliseconds or ` +
        `a string such as "500ms", "30s", "5m", "2h", "7d" or "1h30m"`,
    );
  }
  return total;
}
