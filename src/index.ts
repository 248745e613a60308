/**
 * Durable execution for AI agents and long workflows.
 *
 * @module endure
 */

export { createEngine, Engine } from "./engine/engine.js";
export type {
  EngineHealth,
  JournalPage,
  ListRunsOptions,
  ReadStreamOptions,
  RunHandle,
  StartOptions,
} from "./engine/engine.js";
export type { StreamChunk, StreamOptions } from "./engine/output-stream.js";
export type { ForkOptions, RewindOptions, StepRef } from "./engine/rewind-fork.js";
export type { StreamPart } from "./core/stream.js";
export type { RunUsage, Usage } from "./core/usage.js";
export type { EngineLimits, EngineOptions, Logger, WorkerOptions } from "./engine/options.js";
export { createLogger } from "./observe/logger.js";
export { aesGcmCodec, KEY_BYTES, KEY_ID_LENGTH_MAX } from "./protect/codec.js";
export { isShredded, SHREDDED } from "./core/serialize.js";
export type { ShredReport } from "./protect/shred.js";
export type { RotationReport } from "./protect/rotate.js";
export { REDACTED, type RedactOptions } from "./observe/redact.js";
export { directoryBlobStore, type BlobStore } from "./protect/blobs.js";
export { RUN_KEY_CACHE_MS, RUN_KEYS_CACHED_MAX } from "./protect/run-keys.js";
export type { AesGcmCodecOptions, Codec } from "./protect/codec.js";
export type { ChainProblem, VerifyReport } from "./protect/hash-chain.js";
export { CHAIN_HEADS_MAX } from "./protect/chained-store.js";
export type {
  CreateLoggerOptions,
  LogLevel,
  LogMethod,
  StructuredLogger,
  WarnLogger,
} from "./observe/logger.js";
export type { TelemetryOptions } from "./observe/observers.js";
export type { JournalRecord, RunInfo } from "./engine/views.js";
export type { Explanation, RunState } from "./engine/explain.js";
export type { GcResult } from "./engine/retention.js";
export type {
  ListMemoryOptions,
  MemoryKeyHandle,
  MemoryNamespaceHandle,
  MemoryNamespaceInfo,
  MemoryValue,
  MemoryVersion,
  MemoryWriteOptions,
} from "./engine/memory.js";
export type { MemoryHandle } from "./core/memory.js";
export type { UpdateSendOptions } from "./engine/update.js";
export type {
  DecisionOptions,
  EventToSend,
  PendingApproval,
  SentEvent,
} from "./engine/messages.js";
export { defineEvent } from "./core/event-definition.js";
export { A2A_MESSAGE_EVENT, workflow } from "./core/workflow.js";
export type { A2AInput, A2AServing, A2ASkill, Workflow, WorkflowOptions } from "./core/workflow.js";
export { SHAPE_VERSION_INITIAL, type PayloadShape } from "./core/shapes.js";
export type { ConcurrencyOptions, RateLimitOptions } from "./core/flow-control.js";
export type {
  ApprovalDecision,
  ApprovalOptions,
  ApprovalResult,
  Cancellation,
  EventDefinition,
  ReceivedEvent,
  ReceivedSignal,
  WaitForEventOptions,
  WaitOptions,
  WaitPolicy,
  WaitPolicyRung,
  BackoffOptions,
  RunStatus,
  SqlTransaction,
  StepContext,
  StepOptions,
  TransactionalStepContext,
  UpdateOptions,
  WorkflowContext,
  MapChildOptions,
  MapOptions,
  MapOutcome,
  SomeResult,
} from "./core/types.js";
export type { Duration } from "./core/duration.js";
export type { Clock, TimerHandle } from "./core/clock.js";
export type { EntryType } from "./core/journal.js";
export type { Store } from "./store/store.js";
export {
  ApprovalDecidedError,
  ApprovalNotAllowedError,
  ApprovalNotFoundError,
  RunFinishedError,
  RunTimedOutError,
  DuplicateWorkflowError,
  EndureError,
  type EndureErrorCode,
  type ErrorRecord,
  errorRecord,
  EngineClosedError,
  InputValidationError,
  InvalidArgumentError,
  isEndureError,
  JournalLimitError,
  KeyNotFoundError,
  RunShreddedError,
  BlobMissingError,
  LeaseLostError,
  NonDeterminismError,
  UpcastFailedError,
  PositionNotFoundError,
  RunActiveError,
  NonRetriableError,
  OperationCancelledError,
  CombinatorFailedError,
  AbandonedWaitError,
  CompensationFailedError,
  ContinueAsNewRefusedError,
  OutputValidationError,
  PayloadTooLargeError,
  QueryNotFoundError,
  QueryRefusedError,
  RetryAfterError,
  UpdateNotFoundError,
  UpdateRejectedError,
  RunCancelledError,
  RunIdConflictError,
  RunNotFoundError,
  RunPausedError,
  SerializationError,
  StepInterruptedError,
  StepTimeoutError,
  StoreCorruptError,
  StoreNotEndureError,
  StoreOutdatedError,
  PayloadTamperedError,
  StoreReadOnlyError,
  StoreTimeoutError,
  StoreTooNewError,
  StoreUnavailableError,
  VerificationFailedError,
  WorkflowNotFoundError,
} from "./core/errors.js";
export * as limits from "./core/limits.js";
