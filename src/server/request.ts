// Reading a request: its body within the size limit, its JSON, and its fields checked against
// the route's schema, each refusal naming the field at fault.
import type { z } from "zod";
import { RequestError, invalidField } from "./errors.js";

/** The body of a request as Node received it, when the server runs on Node. */
export interface NodeBody extends AsyncIterable<Buffer | string> {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * The body as text; 413 past `bytesMax` (by its Content-Length, or as it streams in). On
 * Node, `incoming` is read directly, which spares building a web `Request` and its stream
 * for every call (most of an API call's own cost).
 */
export async function readBody(
  request: Request,
  bytesMax: number,
  incoming?: NodeBody,
): Promise<string> {
  const tooLarge = (): RequestError =>
    new RequestError(
      "payload_too_large",
      413,
      `the request body is larger than ${bytesMax} bytes, the server's limit (option bodyBytesMax)`,
    );
  const declared = Number(
    incoming === undefined
      ? (request.headers.get("content-length") ?? "NaN")
      : (incoming.headers["content-length"] ?? "NaN"),
  );
  if (declared > bytesMax) throw tooLarge();
  if (incoming !== undefined) {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of incoming) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      bytes += b.byteLength;
      // Leaving the loop ends the body: the rest of it is not read.
      if (bytes > bytesMax) throw tooLarge();
      chunks.push(b);
    }
    return (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString("utf8");
  }
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
