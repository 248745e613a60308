// Deterministic: validates values against any Standard Schema (zod 4, valibot, arktype, ...).
import type { StandardSchemaV1 } from "@standard-schema/spec";

export type { StandardSchemaV1 };

/** The outcome of a validation: the (possibly transformed) value, or readable issues. */
export type Validated<T> = { ok: true; value: T } | { ok: false; issues: string };

/** Validates `value` with `schema`; issues are joined into one readable line. */
export async function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): Promise<Validated<T>> {
  let result = schema["~standard"].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues === undefined) return { ok: true, value: result.value };
  return { ok: false, issues: describeIssues(result.issues) };
}

function describeIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((p) => (typeof p === "object" ? String(p.key) : String(p)))
        .join(".");
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    })
    .join("; ");
}
