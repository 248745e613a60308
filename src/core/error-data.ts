// Deterministic: values with every error in them turned into plain data, for JSON answers (the
// journal as engine.journal gives it, the API, `--json`): a plain `Error` serializes to `{}`.
import { errorRecord } from "./errors.js";

/** `value` with every error in it (in arrays and plain objects) as its {@link errorRecord}. */
export function plainValue(value: unknown): unknown {
  if (value instanceof Error) return errorRecord(value);
  if (Array.isArray(value)) return value.map(plainValue);
  if (typeof value !== "object" || value === null) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = plainValue(v);
  return out;
}
