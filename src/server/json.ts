// JSON responses: dates as ISO strings and errors as plain data (name, code, message and the
// fields their class adds), never the `{}` that JSON.stringify makes of an Error.

/** An error as plain data. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

/** `error` as plain data: its name, message, code and own fields, without the stack. */
export function errorData(error: Error): ErrorData {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) if (k !== "stack") fields[k] = v;
  return { ...fields, name: error.name, message: error.message };
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  return value instanceof Error ? errorData(value) : value;
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
