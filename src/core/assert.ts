// Deterministic: assertions of endure's own invariants, checked where entries cross a boundary.

/**
 * A broken invariant of endure itself (not bad input, not a failing store): a bug to report.
 * It is never retried as a step failure.
 */
export class EndureAssertionError extends Error {
  constructor(message: string) {
    super(`endure invariant broken: ${message}. This is a bug in endure; please report it`);
    this.name = "EndureAssertionError";
  }
}

/**
 * Throws {@link EndureAssertionError} when `condition` is false. `message` is built only
 * then, so assertions on the hot path cost one comparison.
 *
 * @example
 * ```ts
 * assert(result.writes.length === batch.writes.length, () => "one result per write");
 * ```
 */
export function assert(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new EndureAssertionError(message());
}
