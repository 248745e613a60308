/**
 * Helpers for testing workflows.
 *
 * @module endure/testing
 */
export { createTestClock } from "./test-clock.js";
export type { TestClock } from "./test-clock.js";
export {
  createTestEngine,
  TestEngine,
  TEST_ADVANCES_MAX,
  TEST_APPROVAL_WAIT_MS,
  TEST_IDLE_CHECK_MS,
} from "./test-engine.js";
export type { TestEngineOptions } from "./test-engine.js";
export { checkCrashSafety, CRASH_POINTS_MAX_DEFAULT } from "./crash-safety.js";
export type { CrashSafetyOptions, CrashSafetyProblem, CrashSafetyReport } from "./crash-safety.js";
export { cassette, CASSETTE_FORMAT_VERSION } from "./cassette.js";
export type { CassetteMode, CassetteOptions } from "./cassette.js";
export { runStoreConformance, storeConformanceCases } from "./conformance.js";
export type { ConformanceCase, ConformanceReport } from "./conformance.js";
export {
  exploreCrashes,
  CrashExplorationError,
  EXPLORE_RECOVERIES_MAX_DEFAULT,
} from "./explore.js";
export type { CrashExploration, ExploreOptions } from "./explore.js";
export type { WaitAnswer } from "./memory-port.js";
export { replayJournal, parseJournalFile, formatJournalFile, REPLAY_IDLE_TURNS } from "./replay.js";
export type {
  JournalFile,
  JournalFileRun,
  ReplayDivergence,
  ReplayEnd,
  ReplayOptions,
  ReplayReport,
} from "./replay.js";
