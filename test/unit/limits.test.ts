// Proves related limits agree with each other (a heartbeat shorter than its lease, defaults
// within their bounds, backstops longer than what they back up), and that an assertion of an
// invariant fails loudly as a bug, not as bad input.
import { describe, expect, it } from "vitest";
import { limits } from "endure";
import { assert, EndureAssertionError } from "../../src/core/assert.js";
import { heartbeatIntervalMs } from "../../src/core/limits.js";
import {
  STATEMENT_TIMEOUT_MS_DEFAULT,
  TRANSACTION_IDLE_MS_MAX,
  TRANSACTIONAL_STEP_IDLE_MS_MAX,
} from "../../src/store/postgres/settings.js";
import { SQLITE_BUSY_TIMEOUT_MS_DEFAULT } from "../../src/store/sqlite/limits.js";

describe("limits that must agree", () => {
  it("renews a lease well before it ends, at the shortest lease and the default", () => {
    for (const lease of [limits.LEASE_MS_MIN, limits.LEASE_MS_DEFAULT, 2 * limits.LEASE_MS_MIN]) {
      const beat = heartbeatIntervalMs(lease);
      expect(beat).toBeGreaterThanOrEqual(limits.HEARTBEAT_INTERVAL_MS_MIN);
      expect(beat * 2, `two beats fit in a lease of ${lease} ms`).toBeLessThan(lease);
    }
    expect(heartbeatIntervalMs(limits.LEASE_MS_DEFAULT)).toBe(10_000);
    expect(heartbeatIntervalMs(limits.LEASE_MS_MIN)).toBe(333);
  });

  it("keeps defaults within their bounds", () => {
    expect(limits.PAYLOAD_BYTES_WARN_DEFAULT).toBeLessThan(limits.PAYLOAD_BYTES_MAX_DEFAULT);
    expect(limits.STEP_RETRIES_DEFAULT).toBeLessThanOrEqual(limits.STEP_RETRIES_MAX);
    expect(limits.BACKOFF_INITIAL_MS_DEFAULT).toBeLessThanOrEqual(limits.BACKOFF_MAX_MS_DEFAULT);
    expect(limits.BACKOFF_JITTER_RATIO).toBeGreaterThan(0);
    expect(limits.BACKOFF_JITTER_RATIO).toBeLessThan(1);
    expect(limits.LEASE_MS_MIN).toBeLessThanOrEqual(limits.LEASE_MS_DEFAULT);
    expect(limits.LIST_RUNS_LIMIT_DEFAULT).toBeLessThanOrEqual(limits.LIST_RUNS_LIMIT_MAX);
    expect(limits.STREAM_READ_LIMIT_DEFAULT).toBeLessThanOrEqual(limits.STREAM_READ_LIMIT_MAX);
    expect(limits.TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT).toBeLessThanOrEqual(
      limits.TRANSACTIONAL_STEP_TIMEOUT_MS_MAX,
    );
    expect(limits.EVENT_DEDUP_MS_DEFAULT).toBe(limits.RETENTION_MS_DEFAULT);
    expect(limits.PRIORITY_MIN).toBeLessThanOrEqual(limits.PRIORITY_DEFAULT);
    expect(limits.PRIORITY_DEFAULT).toBeLessThanOrEqual(limits.PRIORITY_MAX);
  });

  it("gives every backstop more time than what it backs up", () => {
    // A held write lock is reported by health before anything that waits on it gives up.
    expect(limits.HEALTH_CHECK_MS_MAX).toBeLessThan(SQLITE_BUSY_TIMEOUT_MS_DEFAULT);
    // The server ends a stalled transactional step only after the core's longest timeout.
    expect(TRANSACTIONAL_STEP_IDLE_MS_MAX).toBeGreaterThan(
      limits.TRANSACTIONAL_STEP_TIMEOUT_MS_MAX,
    );
    expect(TRANSACTION_IDLE_MS_MAX).toBeLessThan(STATEMENT_TIMEOUT_MS_DEFAULT);
    // A lease outlives a default transactional step's lock by far.
    expect(limits.TRANSACTIONAL_STEP_TIMEOUT_MS_DEFAULT).toBeLessThan(limits.LEASE_MS_DEFAULT);
  });
});

describe("assert", () => {
  it("throws EndureAssertionError, naming the invariant and saying it is a bug", () => {
    expect(() => assert(false, () => "one result per write")).toThrow(EndureAssertionError);
    expect(() => assert(false, () => "one result per write")).toThrow(
      /endure invariant broken: one result per write\. This is a bug in endure/,
    );
    expect(() => assert(true, () => "never built")).not.toThrow();
  });
});
