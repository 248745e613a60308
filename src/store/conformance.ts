// The store conformance suite: what every Store must do, as plain async cases that any test
// runner can register. A store is done when every case passes against a real database.
import type { ConformanceCase } from "./conformance-case.js";
import { evolveCases } from "./conformance-evolve.js";
import { flowCases } from "./conformance-flow.js";
import { keyCases } from "./conformance-keys.js";
import { memoryCases } from "./conformance-memory.js";
import { runCases } from "./conformance-runs.js";
import { streamConformanceCases } from "./conformance-stream.js";
import { waitCases } from "./conformance-waits.js";

export type { ConformanceCase };

/** Every conformance case: runs, journals and leases, waits, events and retention, then
 * flow control, output streams and usage totals, durable memory, rewinds and forks, and runs'
 * data keys. */
export const conformanceCases: readonly ConformanceCase[] = [
  ...runCases,
  ...waitCases,
  ...flowCases,
  ...streamConformanceCases,
  ...memoryCases,
  ...evolveCases,
  ...keyCases,
];
