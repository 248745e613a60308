// Reading a request: its body within the size limit, its JSON, and its fields checked against
// the route's schema, each refusal naming the field at fault.
import type { z } from "zod";
import { RequestError, invalidField } from "./errors.js";

/** The body as text; 413 past `bytesMax` (by its Content-Length, or as it streams in). */
export async function readBody(request: Request, bytesMax: number): Promise<string> {
  const tooLarge = (): RequestError =>
    new RequestError(
      "payload_too_large",
      413,
      `the request body is larger than ${bytesMax} bytes, the server's limit (option bodyBytesMax)`,
    );
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > bytesMax) throw tooLarge();
  if (request.body === null) return "";
  const reader: ReadableStreamDefaultReader<Uint8Array> = request.body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > bytesMax) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** The JSON of a body (`{}` when empty); 400 naming where the JSON broke. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalidField(undefined, `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** `value` checked by `schema`; 400 naming the first field at fault. */
export function checked<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String) ?? [];
  let field = path.join(".");
  let message = issue?.message ?? "invalid";
  if (issue?.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    field = [...path, key].join(".");
    message = `unknown field '${key}'`;
  }
  throw invalidField(
    field === "" ? undefined : field,
    `${where}${field === "" ? "" : ` field '${field}'`}: ${message}`,
  );
}
