// endure/testing: helpers for testing workflows.
export { createTestClock } from "./test-clock.js";
export type { TestClock } from "./test-clock.js";
export {
  exploreCrashes,
  CrashExplorationError,
  EXPLORE_RECOVERIES_MAX_DEFAULT,
} from "./explore.js";
export type { CrashExploration, ExploreOptions } from "./explore.js";
export type { WaitAnswer } from "./memory-port.js";
