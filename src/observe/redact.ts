// Redaction: fields the user names as secret are masked wherever endure shows a payload to
// people (the HTTP API, and so the dashboard and the CLI through a server), while the journal
// keeps them as they are (sealed, with a codec). Logs and spans carry no payloads at all. A rule is a field name (`ssn`) or a
// dotted path whose last names must match (`card.number`), `*` standing for any one name;
// it applies at any depth of a value, array items taken as their array's field.
import { InvalidArgumentError } from "../core/errors.js";
import { REDACT_FIELDS_MAX } from "../core/limits.js";

/** The engine's `redact` option. */
export interface RedactOptions {
  /**
   * Fields to mask: a name (`"ssn"`), or a dotted path whose last names must match
   * (`"card.number"`: a `number` inside a `card`), `*` for any one name (`"secrets.*"`).
   * Matched at any depth of every payload shown: inputs, outputs, step results, errors'
   * fields, event and signal data, approval details, memory values, stream parts.
   */
  readonly fields: readonly string[];
  /** What a masked value shows as. Default `"[redacted]"`. */
  readonly censor?: string;
}

/** The text a masked value becomes by default. */
export const REDACTED = "[redacted]";

/** Masks the fields of `options` in a value, returning a copy (the value itself is not
 * changed); the identity when there is nothing to mask. */
export type Redactor = <T>(value: T) => T;

/** The identity: nothing is masked. */
export const noRedaction: Redactor = (value) => value;

/** Checks `options` and returns the function that masks what they name. */
export function redactor(options: RedactOptions | undefined): Redactor {
  if (options === undefined) return noRedaction;
  if (typeof options !== "object" || options === null || !Array.isArray(options.fields))
    throw new InvalidArgumentError('redact must be { fields: ["name" or "a.path", ...] }');
  if (options.fields.length > REDACT_FIELDS_MAX) {
    throw new InvalidArgumentError(
      `redact names ${options.fields.length} fields, more than REDACT_FIELDS_MAX ` +
        `(${REDACT_FIELDS_MAX}); name the parents of many secret fields instead ("secrets")`,
    );
  }
  const censor = options.censor ?? REDACTED;
  if (typeof censor !== "string") throw new InvalidArgumentError("redact censor must be a string");
  // Rules by their last name ("*" for those ending with a wildcard), each as its names.
  const byLast = new Map<string, string[][]>();
  for (const field of options.fields) {
    if (typeof field !== "string" || !/^[^.]+(\.[^.]+)*$/.test(field)) {
      throw new InvalidArgumentError(
        `redact field ${JSON.stringify(field)} must be a field name or a dotted path of names ` +
          '("ssn", "card.number", "secrets.*")',
      );
    }
    const names = field.split(".");
    const last = names[names.length - 1] as string;
    const rules = byLast.get(last) ?? [];
    rules.push(names);
    byLast.set(last, rules);
  }
  if (byLast.size === 0) return noRedaction;
  const wild = byLast.get("*") ?? [];
  const none: string[][] = [];
  const endsWith = (path: readonly string[], rule: readonly string[]): boolean => {
    if (rule.length > path.length) return false;
    for (let i = 1; i <= rule.length; i++) {
      const want = rule[rule.length - i];
      if (want !== "*" && want !== path[path.length - i]) return false;
    }
    return true;
  };
  const matches = (path: readonly string[]): boolean =>
    (byLast.get(path[path.length - 1] as string) ?? none).some((rule) => endsWith(path, rule)) ||
    wild.some((rule) => endsWith(path, rule));
  const walk = (value: unknown, path: string[]): unknown => {
    if (Array.isArray(value)) return value.map((item) => walk(item, path));
    if (value === null || typeof value !== "object") return value;
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      path.push(key);
      const masked = matches(path) ? censor : walk(inner, path);
      path.pop();
      // Own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(out, key, {
        value: masked,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return <T>(value: T): T => walk(value, []) as T;
}
