// Turns a tool's input schema into the JSON Schema a model is shown.
import { InvalidArgumentError } from "../core/errors.js";
import type { StandardSchemaV1 } from "../core/schema.js";

interface JsonSchemaConverter {
  readonly jsonSchema?: { input?: (options: { target: string }) => Record<string, unknown> };
}

/**
 * The JSON Schema of a Standard Schema's input, through the Standard JSON Schema interface
 * (zod 4, and other libraries that implement it), as draft-07, which every provider reads.
 * `what` names the tool in errors.
 */
export function inputJsonSchema(
  schema: StandardSchemaV1,
  what: string,
  explicit?: Record<string, unknown>,
): Record<string, unknown> {
  let json = explicit;
  if (json === undefined) {
    const converter = (schema["~standard"] as JsonSchemaConverter).jsonSchema;
    if (typeof converter?.input !== "function") {
      throw new InvalidArgumentError(
        `${what}: its input schema (${schema["~standard"].vendor}) cannot produce JSON Schema; ` +
          "use zod 4 or another library implementing Standard JSON Schema, or pass inputJsonSchema",
      );
    }
    try {
      json = converter.input({ target: "draft-07" });
    } catch (e) {
      throw new InvalidArgumentError(
        `${what}: its input schema cannot be shown to a model as JSON Schema (${(e as Error).message}); pass inputJsonSchema`,
        { cause: e },
      );
    }
  }
  if (json["type"] !== "object") {
    throw new InvalidArgumentError(
      `${what}: a tool's input must be an object schema (such as z.object({...})); models send tool arguments as a JSON object`,
    );
  }
  const { $schema: _drop, ...rest } = json;
  return rest;
}
