// The options of createEngine, checked once and turned into settings with units.
import type { RedactOptions } from "../observe/redact.js";
import type { BlobStore } from "../protect/blobs.js";
import { checkText } from "../core/text.js";
import type { Clock } from "../core/clock.js";
import { parseDuration, type Duration } from "../core/duration.js";
import { InvalidArgumentError } from "../core/errors.js";
import {
  CLOSE_GRACE_MS_DEFAULT,
  BLOB_BYTES_MAX_DEFAULT,
  BLOB_THRESHOLD_BYTES_DEFAULT,
  IN_MEMORY_WAIT_MS_DEFAULT,
  JOURNAL_ENTRIES_MAX_DEFAULT,
  LEASE_MS_DEFAULT,
  LEASE_MS_MIN,
  PAYLOAD_BYTES_MAX_DEFAULT,
  PAYLOAD_BYTES_WARN_DEFAULT,
  POISON_RECOVERIES_MAX_DEFAULT,
  POLL_INTERVAL_MS_DEFAULT,
  VERSION_GRACE_MS_DEFAULT,
  WAIT_TIMEOUT_MS_DEFAULT,
  WORKER_RUNS_MAX_DEFAULT,
  LABEL_LENGTH_MAX,
} from "../core/limits.js";
import { checkMemoryNamespace } from "../core/memory.js";
import type { RunLimits } from "../core/run-port.js";
import type { Workflow } from "../core/workflow.js";
import type { Logger } from "../observe/logger.js";
import type { TelemetryOptions } from "../observe/observers.js";
import type { Codec } from "../protect/codec.js";
import type { Store } from "../store/store.js";
import { newWorkerId } from "../worker/ids.js";
import type { WorkerSettings } from "../worker/worker.js";

export type { Logger } from "../observe/logger.js";

/** Limits enforced inside runs; defaults in `core/limits.ts`. */
export interface EngineLimits {
  /** Largest serialized input, output or step result, in bytes. Default 2 MiB. */
  payloadBytesMax?: number;
  /** Payload size that logs a warning, in bytes. Default 256 KiB. */
  payloadBytesWarn?: number;
  /** Most journal entries per run. Default 100,000. */
  journalEntriesMax?: number;
  /** With `blobs`: stored data longer than this, in bytes, goes to the blob store. Default
   * 256 KiB (`BLOB_THRESHOLD_BYTES_DEFAULT`). */
  blobThresholdBytes?: number;
  /** With `blobs`: the largest step result or run output, in bytes. Default 64 MiB
   * (`BLOB_BYTES_MAX_DEFAULT`). */
  blobBytesMax?: number;
}

/** Options of the worker an engine runs. */
export interface WorkerOptions {
  /** This worker's identity. A worker restarted with the same id reclaims its runs at once. */
  workerId?: string;
  /** Runs executing in memory at once. Default 2,000. */
  concurrency?: number;
  /** Lease on a claimed run, renewed at a third of it. Default `"30s"`. */
  lease?: Duration;
  /** How often an idle worker polls the store. Default 200 ms. */
  pollInterval?: Duration;
  /** Waits up to this long stay in memory; longer ones evict the run. Default `"5s"`. */
  inMemoryWait?: Duration;
  /** Crashes in a row, without progress, before a run is paused as poison. Default 5. */
  poisonRecoveries?: number;
  /** How long `close()` lets running step bodies finish. Default `"10s"`. */
  closeGrace?: Duration;
  /**
   * How long a run pinned to a workflow version this worker does not register may wait for a
   * worker that has it before this one pauses it (`version_missing`). Default `"1m"`.
   */
  versionGrace?: Duration;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** Where runs live: `sqliteStore(path)` or `postgresStore(url)`. */
  store: Store;
  /**
   * Workflows this engine can start by name and execute. Several versions of one name may be
   * registered side by side (each with its own `version`): a run stays on the version it
   * started on, and new runs take the newest (see `defaultVersions`).
   */
  workflows?: ReadonlyArray<AnyWorkflow>;
  /**
   * The version new runs of a workflow take, by name, when it is not the newest registered
   * one (versions compare as text with numbers in them: `"1.10"` is newer than `"1.9"`).
   *
   * @example
   * ```ts
   * createEngine({ store, workflows: [researchV1, researchV2], defaultVersions: { research: "1" } });
   * ```
   */
  defaultVersions?: Readonly<Record<string, string>>;
  /** Run a worker (default true); `false` makes a client that only starts and reads runs. */
  worker?: boolean | WorkerOptions;
  /** Source of time; tests pass a virtual clock from `endure/testing`. */
  clock?: Clock;
  limits?: EngineLimits;
  /**
   * Where the engine logs: a pino logger (or any with pino's `(fields, message)` methods and
   * `child`), or `{ warn(message) }` for warnings only. Default: JSON lines on stderr at
   * level `warn` (`createLogger` of `endure`). A logger that throws never breaks a run.
   */
  logger?: Logger;
  /** Where spans and metrics go; the providers registered with @opentelemetry/api by default. */
  telemetry?: TelemetryOptions;
  /**
   * Encryption at rest: every payload the store holds (inputs, step results, outputs,
   * errors, events, signals, wait values, approval comments, stream parts) is sealed with
   * this codec, made by `aesGcmCodec({ keys, current })`. Payloads written before stay
   * readable. Default: none (payloads are stored as JSON text). See docs/security.md.
   */
  codec?: Codec;
  /**
   * Tamper evidence: each journal entry this engine writes carries a SHA-256 hash chained to
   * the entry before it (the first to the run's creation), which `engine.verify(runId)` and
   * `endure verify` check. Default false. Every engine reads chained journals either way.
   */
  hashChain?: boolean;
  /**
   * Fields masked wherever payloads are shown to people: the HTTP API, and so the dashboard
   * and the CLI through a server (logs and spans carry no payloads: only names, error
   * messages and codes). The journal keeps them as they are (sealed, with a codec), and the
   * workflow code sees them. See {@link RedactOptions}.
   *
   * @example
   * ```ts
   * createEngine({ store, workflows, redact: { fields: ["ssn", "card.number"] } });
   * ```
   */
  redact?: RedactOptions;
  /**
   * Large payloads by reference: a step result or run output whose stored data is over
   * `limits.blobThresholdBytes` (256 KiB) is written once to this blob store under its SHA-256
   * and the journal keeps the hash, so values up to `limits.blobBytesMax` (64 MiB) fit without
   * bloating the journal. `true`: a directory beside the SQLite file (`<file>.blobs`). Every
   * engine and command reading the store needs the same blob store. See docs/operations.md.
   *
   * @example
   * ```ts
   * createEngine({ store: sqliteStore("./endure.db"), workflows, blobs: true });
   * createEngine({ store: postgresStore(url), workflows, blobs: directoryBlobStore("/data/blobs") });
   * ```
   */
  blobs?: BlobStore | true;
  /** Longest wait (event, signal, approval) when the code gives no timeout. Default `"30d"`. */
  waitTimeout?: Duration;
  /** How long finished runs and spent events are kept before `gc` deletes them.
   * Default `"30d"`. */
  retention?: Duration;
  /**
   * How long memory keys of a namespace are kept after their last write, by namespace; `gc`
   * deletes older keys with their history. Namespaces not named here are kept until deleted.
   *
   * @example
   * ```ts
   * createEngine({ store, workflows, memoryRetention: { session: "7d", customer: "365d" } });
   * ```
   */
  memoryRetention?: Readonly<Record<string, Duration>>;
  /** When a worker engine runs retention by itself (cron, UTC); null: only `engine.gc()`.
   * Default daily at 03:17. */
  gcSchedule?: string | null;
}

/** Checks `memoryRetention`: namespace to milliseconds, in name order. */
export function memoryRetentionOf(
  retention: Readonly<Record<string, Duration>> | undefined,
): ReadonlyArray<readonly [string, number]> {
  if (retention === undefined) return [];
  if (typeof retention !== "object" || retention === null || Array.isArray(retention)) {
    throw new InvalidArgumentError(
      'memoryRetention must be an object of namespace to duration, such as { session: "7d" }',
    );
  }
  return Object.keys(retention)
    .sort()
    .map((namespace) => {
      checkMemoryNamespace(namespace);
      return [
        namespace,
        parseDuration(retention[namespace] as Duration, `memoryRetention.${namespace}`),
      ] as const;
    });
}

/** A workflow of any input and output type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs are contravariant; any admits every workflow
export type AnyWorkflow = Workflow<any, any>;

/** The size over which stored data goes to the blob store (`limits.blobThresholdBytes`). */
export function blobThresholdOf(limits: EngineLimits = {}): number {
  return positiveInt(
    limits.blobThresholdBytes ?? BLOB_THRESHOLD_BYTES_DEFAULT,
    "limits.blobThresholdBytes",
  );
}

/** Checks the run limits. */
export function runLimitsOf(limits: EngineLimits = {}, blobs = false): RunLimits {
  const payloadBytesMax = positiveInt(
    limits.payloadBytesMax ?? PAYLOAD_BYTES_MAX_DEFAULT,
    "limits.payloadBytesMax",
  );
  return {
    payloadBytesMax,
    resultBytesMax: blobs
      ? positiveInt(limits.blobBytesMax ?? BLOB_BYTES_MAX_DEFAULT, "limits.blobBytesMax")
      : payloadBytesMax,
    payloadBytesWarn: Math.min(
      payloadBytesMax,
      positiveInt(limits.payloadBytesWarn ?? PAYLOAD_BYTES_WARN_DEFAULT, "limits.payloadBytesWarn"),
    ),
    journalEntriesMax: positiveInt(
      limits.journalEntriesMax ?? JOURNAL_ENTRIES_MAX_DEFAULT,
      "limits.journalEntriesMax",
    ),
  };
}

/** Checks the worker options; null when the engine runs no worker. */
export function workerSettingsOf(
  option: boolean | WorkerOptions | undefined,
  waitTimeout?: Duration,
): WorkerSettings | null {
  if (option === false) return null;
  const o = option === true || option === undefined ? {} : option;
  const leaseMs = o.lease === undefined ? LEASE_MS_DEFAULT : parseDuration(o.lease, "worker.lease");
  if (leaseMs < LEASE_MS_MIN)
    throw new InvalidArgumentError(
      `worker.lease must be at least ${LEASE_MS_MIN} ms, got ${leaseMs} ms`,
    );
  const workerId = o.workerId ?? newWorkerId();
  checkText(workerId, "worker.workerId", LABEL_LENGTH_MAX);
  return {
    workerId,
    runsMax: positiveInt(o.concurrency ?? WORKER_RUNS_MAX_DEFAULT, "worker.concurrency"),
    leaseMs,
    pollIntervalMs: Math.max(
      1,
      o.pollInterval === undefined
        ? POLL_INTERVAL_MS_DEFAULT
        : parseDuration(o.pollInterval, "worker.pollInterval"),
    ),
    inMemoryWaitMs:
      o.inMemoryWait === undefined
        ? IN_MEMORY_WAIT_MS_DEFAULT
        : parseDuration(o.inMemoryWait, "worker.inMemoryWait"),
    poisonRecoveriesMax: positiveInt(
      o.poisonRecoveries ?? POISON_RECOVERIES_MAX_DEFAULT,
      "worker.poisonRecoveries",
    ),
    closeGraceMs:
      o.closeGrace === undefined
        ? CLOSE_GRACE_MS_DEFAULT
        : parseDuration(o.closeGrace, "worker.closeGrace"),
    versionGraceMs:
      o.versionGrace === undefined
        ? VERSION_GRACE_MS_DEFAULT
        : parseDuration(o.versionGrace, "worker.versionGrace"),
    waitTimeoutMsDefault:
      waitTimeout === undefined
        ? WAIT_TIMEOUT_MS_DEFAULT
        : parseDuration(waitTimeout, "waitTimeout"),
  };
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(
      `${what} must be a whole number of at least 1, got ${String(value)}`,
    );
  return value;
}
