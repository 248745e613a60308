// What a withdrawn wait had taken and must give back: shared by the stores.
import type { WaitKind } from "../core/run-port.js";

/** An event (by id) or a signal (by its content) that a wait took before it was withdrawn. */
export type Taken =
  | { readonly kind: "event"; readonly id: string }
  | {
      readonly kind: "signal";
      readonly name: string;
      readonly data: string;
      readonly sentAt: number;
    };

/**
 * Reads what a satisfied wait's encoded value says it took (see `core/wait-values`), or null
 * for an approval (its decisions stay recorded on the withdrawn approval).
 */
export function withdrawnValue(kind: WaitKind, value: string): Taken | null {
  const parsed = JSON.parse(value) as {
    id?: string;
    name?: string;
    data?: unknown;
    sentAt?: { v?: string };
  };
  if (kind === "event" && typeof parsed.id === "string") return { kind: "event", id: parsed.id };
  if (kind === "signal" && typeof parsed.name === "string" && parsed.sentAt?.v !== undefined) {
    return {
      kind: "signal",
      name: parsed.name,
      data: JSON.stringify(parsed.data),
      sentAt: Date.parse(parsed.sentAt.v),
    };
  }
  return null;
}

/** True when encoded signal data `stored` is the data a withdrawn wait took. */
export function sameData(stored: string, taken: string): boolean {
  return JSON.stringify(JSON.parse(stored)) === taken;
}
