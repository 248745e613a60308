// endure/testing: helpers for testing workflows.
export { createTestClock } from "./test-clock.js";
export type { TestClock } from "./test-clock.js";
