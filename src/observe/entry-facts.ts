// Reads what an observer needs from journal entries without decoding their payloads: the
// attempt number, the error of a failure, the span a stay in memory recorded. The format is
// defined in core/entry-data.
import { peekAttempt, peekSpan } from "../core/entry-data.js";
import type { NewEntry } from "../core/journal.js";

/** The `attempt` of a step entry's data, or null. */
export function attemptOf(entry: Pick<NewEntry, "data">): number | null {
  return peekAttempt(entry.data);
}

/** The step's name without its occurrence: `plan` for `plan#2`. */
export function stepNameOf(key: string): string {
  const hash = key.lastIndexOf("#");
  return hash < 0 ? key : key.slice(0, hash);
}

/** What a failure entry says went wrong: `{ name, code, message }` of its `error`. */
export function failureOf(
  entry: Pick<NewEntry, "data">,
): { name: string; message: string; code?: string } | null {
  try {
    const data = JSON.parse(entry.data ?? "null") as { error?: unknown } | null;
    return factsOf(data?.error);
  } catch {
    return null;
  }
}

/** `{ name, code, message }` of an error encoded by `encodeValue`, or null. */
export function errorFactsOf(
  encoded: string,
): { name: string; message: string; code?: string } | null {
  try {
    return factsOf(JSON.parse(encoded));
  } catch {
    return null;
  }
}

function factsOf(e: unknown): { name: string; message: string; code?: string } | null {
  if (e === null || typeof e !== "object") return null;
  const { name, message, props } = e as { name?: unknown; message?: unknown; props?: unknown };
  const out = {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : "",
  };
  const code = (props as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? { ...out, code } : out;
}

/** The `span` (a W3C traceparent) a worker recorded in an entry's data, or null. */
export function spanOf(entry: Pick<NewEntry, "data">): string | null {
  return peekSpan(entry.data);
}
