// The shape of a conformance case.
import type { Store } from "./store.js";

/** One conformance case: `run` gets a fresh, opened store and throws on failure. */
export interface ConformanceCase {
  readonly name: string;
  run(store: Store): Promise<void>;
}
