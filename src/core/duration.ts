// Deterministic: parses durations such as "500ms", "30s", "5m", "2h", "7d" into milliseconds.
import { readDuration, type Duration } from "./duration-text.js";
import { InvalidArgumentError } from "./errors.js";
import { DURATION_MS_MAX } from "./limits.js";

export type { Duration } from "./duration-text.js";

/**
 * Turns a duration into milliseconds. `what` names the option in the error message.
 *
 * @example
 * ```ts
 * parseDuration("1h30m", "timeout") // 5_400_000
 * ```
 */
export function parseDuration(value: Duration, what: string): number {
  const reading = readDuration(value);
  switch (reading.kind) {
    case "ms":
      return reading.ms;
    case "too_long":
      throw new InvalidArgumentError(
        `${what} is ${reading.ms} ms, longer than the ${DURATION_MS_MAX} ms (10 years) endure accepts`,
      );
    case "negative":
      throw new InvalidArgumentError(
        `${what} must be a non-negative duration, got ${JSON.stringify(value)}; ` +
          `use milliseconds or a string such as "30s", "5m", "2h" or "7d"`,
      );
    case "not_a_duration":
      throw new InvalidArgumentError(
        `${what} ${JSON.stringify(value)} is not a duration; use a number of milliseconds or ` +
          `a string such as "500ms", "30s", "5m", "2h", "7d" or "1h30m"`,
      );
  }
}
