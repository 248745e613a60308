// Deterministic: payload upcasters. A step result or an event payload is journaled with the
// version of its shape beside it; replay hands the code the value brought up to the shape the
// code declares now, through the upcasters it declares, one version at a time.
import { ensureError, InvalidArgumentError, UpcastFailedError } from "./errors.js";
import { decodeValue, encodeValue } from "./serialize.js";

/** The version of a payload journaled before its shape declared one. */
export const SHAPE_VERSION_INITIAL = 1;

/**
 * How a journaled payload's shape has changed: its version now, and how to bring a value of
 * an older version up to the next one. A value journaled without a version (before any was
 * declared) is version {@link SHAPE_VERSION_INITIAL}.
 *
 * @example
 * ```ts
 * // The step "plan" used to return a string; it returns { steps: string[] } since version 2.
 * const plan: PayloadShape = { version: 2, upcast: { 1: (old: string) => ({ steps: [old] }) } };
 * ```
 */
export interface PayloadShape {
  /** The shape's version now: a whole number from 1. New values are journaled with it. */
  readonly version: number;
  /**
   * Upcasters by the version they read: `upcast[1]` turns a version-1 value into a version-2
   * one. They must be pure (a replay calls them again) and form a chain up to `version`: an
   * old one may be removed once no run in flight journaled that version.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each reads its own old shape
  readonly upcast?: Readonly<Record<number, (value: any) => unknown>>;
}

/** Checks a shape declaration; `what` names it in errors (`workflow 'x' result of step 'plan'`). */
export function checkShape(shape: unknown, what: string): PayloadShape {
  if (typeof shape !== "object" || shape === null)
    throw new InvalidArgumentError(`${what} shape must be an object { version, upcast }`);
  const { version, upcast } = shape as { version?: unknown; upcast?: unknown };
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgumentError(
      `${what} shape version must be a whole number from 1, got ${String(version)}`,
    );
  }
  if (upcast === undefined) return { version };
  if (typeof upcast !== "object" || upcast === null || Array.isArray(upcast)) {
    throw new InvalidArgumentError(
      `${what} upcast must be an object of functions by the version they read ({ 1: (old) => ... })`,
    );
  }
  const froms: number[] = [];
  for (const [key, fn] of Object.entries(upcast)) {
    const from = Number(key);
    if (!Number.isSafeInteger(from) || from < 1 || from >= version || String(from) !== key) {
      throw new InvalidArgumentError(
        `${what} upcast '${key}' must be a version from 1 to ${version - 1} (the version it ` +
          `reads; the shape is at version ${version})`,
      );
    }
    if (typeof fn !== "function")
      throw new InvalidArgumentError(`${what} upcast ${key} must be a function of the old value`);
    froms.push(from);
  }
  froms.sort((a, b) => a - b);
  const lowest = froms[0];
  if (lowest !== undefined) {
    for (let v = lowest; v < version; v++) {
      if (!froms.includes(v)) {
        throw new InvalidArgumentError(
          `${what} upcast has no function from version ${v}, so a value of version ${lowest} ` +
            `cannot reach version ${version}; add upcast[${v}]`,
        );
      }
    }
  }
  return Object.freeze({ version, upcast: Object.freeze({ ...upcast }) });
}

/** The version a new value of this shape is journaled with, or undefined for the initial one. */
export function recordedVersion(shape: PayloadShape | null | undefined): number | undefined {
  return shape === null || shape === undefined || shape.version === SHAPE_VERSION_INITIAL
    ? undefined
    : shape.version;
}

/**
 * `value`, journaled at version `recorded` (undefined: the initial one), brought up to
 * `shape`'s version. Throws an UpcastFailedError when an upcaster is missing or throws, or
 * the journal holds a newer version than the code knows. `what` names the payload.
 */
export function upcast(
  shape: PayloadShape | null | undefined,
  recorded: number | undefined,
  value: unknown,
  what: string,
): unknown {
  const from = recorded ?? SHAPE_VERSION_INITIAL;
  const current = shape?.version ?? SHAPE_VERSION_INITIAL;
  if (from === current) return value;
  if (from > current) {
    throw new UpcastFailedError(
      `${what} was journaled at shape version ${from}, but this code declares version ` +
        `${current}: it is older than the code that wrote the journal. Deploy code that knows ` +
        "that shape (see docs/evolving.md), then resume the run",
    );
  }
  let out = value;
  for (let v = from; v < current; v++) {
    const fn = shape?.upcast?.[v];
    if (fn === undefined) {
      throw new UpcastFailedError(
        `${what} was journaled at shape version ${v}, and the code declares no upcaster from ` +
          `version ${v} (its shape is at version ${current}); add upcast[${v}] back, deploy, ` +
          "then resume the run",
      );
    }
    try {
      out = fn(out);
      // The code sees what a journaled value can hold, as it would on a first execution.
      out = decodeValue(encodeValue(out, `${what} upcast from version ${v}`));
    } catch (e) {
      throw new UpcastFailedError(
        `the upcaster of ${what} from shape version ${v} threw: ${ensureError(e).message}. ` +
          "The journal is unchanged; fix the upcaster, deploy, then resume the run",
        { cause: e },
      );
    }
  }
  return out;
}
