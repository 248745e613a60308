// JSON responses: dates as ISO strings and errors as plain data (endure's ErrorRecord:
// name, code, message, stack, cause and their fields), never the `{}` JSON makes of an Error.
import { errorRecord } from "../core/errors.js";

function replacer(this: unknown, _key: string, value: unknown): unknown {
  return value instanceof Error ? errorRecord(value) : value;
}

/** The JSON text of `value`, with errors as plain data. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** A JSON response. */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(toJsonText(value), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
