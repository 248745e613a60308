// Deterministic: reads a duration ("500ms", "30s", "1h30m", or milliseconds) without throwing,
// so that the error classes can check one (RetryAfterError) without an import cycle.
import { DURATION_MS_MAX } from "./limits.js";

/** A duration: milliseconds as a number, or a string such as `"500ms"`, `"30s"`, `"1h30m"`. */
export type Duration = number | string;

/** What reading a duration gave: its milliseconds, or why it is not one endure accepts. */
export type DurationReading =
  | { readonly kind: "ms"; readonly ms: number }
  | { readonly kind: "not_a_duration" }
  /** Negative, infinite or NaN. */
  | { readonly kind: "negative" }
  | { readonly kind: "too_long"; readonly ms: number };

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;

/** Reads `value` as a duration of at most {@link DURATION_MS_MAX} ms, rounded to whole ms. */
export function readDuration(value: unknown): DurationReading {
  let ms: number | null = null;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    ms = textMs(value.trim());
    if (ms === null) return { kind: "not_a_duration" };
  }
  if (ms === null) return { kind: "not_a_duration" };
  if (!Number.isFinite(ms) || ms < 0) return { kind: "negative" };
  if (ms > DURATION_MS_MAX) return { kind: "too_long", ms };
  return { kind: "ms", ms: Math.round(ms) };
}

function textMs(text: string): number | null {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN);
    matched = PART.lastIndex;
    while (text[matched] === " ") matched++;
    PART.lastIndex = matched;
  }
  return matched !== text.length || text.length === 0 ? null : total;
}
