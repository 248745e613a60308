// Deterministic: named events with a known data shape, so that waits can check their match.
import { InvalidArgumentError } from "./errors.js";
import type { StandardSchemaV1 } from "./schema.js";
import { checkShape, type PayloadShape } from "./shapes.js";
import type { EventDefinition } from "./types.js";
import { checkName } from "./workflow.js";

/**
 * Defines an event: its name, and the top-level fields of its data (from a zod object schema's
 * `shape`, or listed) so that `ctx.waitForEvent` refuses a `match` on a field that cannot exist.
 *
 * @example
 * ```ts
 * const replied = defineEvent("email.replied", z.object({ threadId: z.string(), text: z.string() }));
 * const reply = await ctx.waitForEvent("reply", { event: replied, match: { "data.threadId": id } });
 * reply?.data.text; // typed
 * ```
 *
 * When the data changes shape, declare its version and how older data is brought up: a wait
 * journals the data it receives with the version, and a replay of a run that received older
 * data hands the code the data upcast (see docs/evolving.md).
 *
 * ```ts
 * const replied = defineEvent("email.replied", schemaV2, {
 *   version: 2,
 *   upcast: { 1: (old: { body: string }) => ({ text: old.body }) },
 * });
 * ```
 */
export function defineEvent<S extends StandardSchemaV1>(
  name: string,
  schema: S,
  shape?: PayloadShape,
): EventDefinition<StandardSchemaV1.InferOutput<S>>;
export function defineEvent<T = unknown>(
  name: string,
  options?: { fields?: readonly string[]; version?: number; upcast?: PayloadShape["upcast"] },
): EventDefinition<T>;
export function defineEvent(
  name: string,
  shape?:
    | StandardSchemaV1
    | { fields?: readonly string[]; version?: number; upcast?: PayloadShape["upcast"] },
  versioned?: PayloadShape,
): EventDefinition {
  checkName(name, "event name");
  let fields: readonly string[] | null = null;
  let declared: PayloadShape | undefined = versioned;
  if (shape !== undefined && !("~standard" in shape) && shape.version !== undefined)
    declared = { version: shape.version, ...(shape.upcast ? { upcast: shape.upcast } : {}) };
  else if (shape !== undefined && !("~standard" in shape) && shape.upcast !== undefined)
    throw new InvalidArgumentError(`event '${name}' upcast needs the shape's version`);
  const checked = declared === undefined ? null : checkShape(declared, `event '${name}' data`);
  if (shape !== undefined && "~standard" in shape) {
    const objectShape = (shape as { shape?: unknown }).shape;
    if (typeof objectShape === "object" && objectShape !== null) fields = Object.keys(objectShape);
  } else if (shape?.fields !== undefined) {
    const list: readonly unknown[] = shape.fields;
    if (!Array.isArray(list) || list.some((f) => typeof f !== "string" || f.length === 0)) {
      throw new InvalidArgumentError(`event '${name}' fields must be a list of field names`);
    }
    fields = list as readonly string[];
  }
  return Object.freeze({ name, fields, shape: checked });
}
