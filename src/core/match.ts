// Deterministic: how a wait's `match` selects events. A match is a set of field paths with
// JSON primitive values; stores index waits by the paths and the values' canonical key.
import { InvalidArgumentError } from "./errors.js";
import { MATCH_PATHS_MAX } from "./limits.js";

type Primitive = string | number | boolean | null;

/** A checked match: sorted paths, and the key their values make (`[...values]` as JSON). */
export interface CanonicalMatch {
  readonly paths: readonly string[];
  readonly key: string;
}

const SEGMENT = /^[A-Za-z_$][\w$-]*$|^\d+$/;

/**
 * Checks a match and makes it canonical. Paths are `id`, `name` or `data.<field>...`; values
 * JSON primitives. A match that could never be evaluated is refused here, when the wait is
 * created, instead of never matching. `fields` (from an event definition) restricts the first
 * field under `data`.
 */
export function canonicalMatch(
  match: Readonly<Record<string, unknown>> | undefined,
  what: string,
  fields: readonly string[] | null = null,
): CanonicalMatch {
  const entries = Object.entries(match ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length > MATCH_PATHS_MAX) {
    throw new InvalidArgumentError(
      `${what} match has ${entries.length} paths; at most ${MATCH_PATHS_MAX} are allowed`,
    );
  }
  for (const [path, value] of entries) {
    const segments = path.split(".");
    const known =
      path === "id" || path === "name" || (segments[0] === "data" && segments.length > 1);
    if (!known || !segments.slice(1).every((s) => SEGMENT.test(s))) {
      throw new InvalidArgumentError(
        `${what} match path '${path}' can never be evaluated: use 'id', 'name' or 'data.<field>' (dotted, no brackets)`,
      );
    }
    if (fields !== null && segments[0] === "data" && !fields.includes(segments[1] ?? "")) {
      throw new InvalidArgumentError(
        `${what} match path '${path}' names no field of the event's data (fields: ${fields.join(", ") || "none"})`,
      );
    }
    if (!isPrimitive(value)) {
      throw new InvalidArgumentError(
        `${what} match value at '${path}' must be a string, number, boolean or null`,
      );
    }
  }
  return { paths: entries.map(([p]) => p), key: JSON.stringify(entries.map(([, v]) => v)) };
}

/** The key an event makes for `paths`, or null when a path is missing or not a primitive. */
export function matchKeyOf(
  event: { id: string; name: string; data: unknown },
  paths: readonly string[],
): string | null {
  const values: Primitive[] = [];
  for (const path of paths) {
    let value: unknown = event;
    for (const segment of path.split(".")) {
      if (value === null || typeof value !== "object") return null;
      value = (value as Record<string, unknown>)[segment];
    }
    if (!isPrimitive(value)) return null;
    values.push(value);
  }
  return JSON.stringify(values);
}

function isPrimitive(value: unknown): value is Primitive {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}
