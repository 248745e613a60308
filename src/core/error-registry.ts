// Deterministic: endure's error family by class name, so a journaled error comes back as
// the class that raised it, in any process, whether or not it loaded endure/ai.
import {
  ApprovalDecidedError,
  ApprovalNotAllowedError,
  ApprovalNotFoundError,
  DuplicateWorkflowError,
  EndureError,
  EngineClosedError,
  InputValidationError,
  InvalidArgumentError,
  JournalLimitError,
  LeaseLostError,
  NonDeterminismError,
  NonRetriableError,
  OperationCancelledError,
  CombinatorFailedError,
  AbandonedWaitError,
  OutputValidationError,
  PayloadTooLargeError,
  QueryNotFoundError,
  QueryRefusedError,
  RetryAfterError,
  UpdateNotFoundError,
  UpdateRejectedError,
  RunCancelledError,
  RunFinishedError,
  RunIdConflictError,
  RunNotFoundError,
  RunPausedError,
  RunTimedOutError,
  SerializationError,
  StepInterruptedError,
  StepTimeoutError,
  StoreCorruptError,
  StoreNotEndureError,
  StoreOutdatedError,
  StoreReadOnlyError,
  KeyNotFoundError,
  PayloadTamperedError,
  StoreTimeoutError,
  StoreTooNewError,
  StoreUnavailableError,
  VerificationFailedError,
  WorkflowNotFoundError,
} from "./errors.js";
import {
  BudgetExceededError,
  EmptyReplyError,
  MaxTurnsExceededError,
  ModelResponseError,
  ModelTimeoutError,
  ModelUnavailableError,
} from "./agent-errors.js";

const errorClasses: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// Every class of endure's family, core's and the agent layer's, by name: the journal
// restores an error as the class that raised it.
const family: readonly (abstract new (...args: never[]) => EndureError)[] = [
  EndureError,
  RunTimedOutError,
  RunFinishedError,
  ApprovalNotFoundError,
  ApprovalDecidedError,
  ApprovalNotAllowedError,
  InvalidArgumentError,
  WorkflowNotFoundError,
  DuplicateWorkflowError,
  RunIdConflictError,
  RunNotFoundError,
  InputValidationError,
  OutputValidationError,
  SerializationError,
  PayloadTooLargeError,
  QueryNotFoundError,
  QueryRefusedError,
  UpdateNotFoundError,
  UpdateRejectedError,
  JournalLimitError,
  StepTimeoutError,
  VerificationFailedError,
  StepInterruptedError,
  RunCancelledError,
  RunPausedError,
  LeaseLostError,
  EngineClosedError,
  StoreNotEndureError,
  StoreTooNewError,
  StoreReadOnlyError,
  StoreCorruptError,
  StoreUnavailableError,
  StoreTimeoutError,
  StoreOutdatedError,
  KeyNotFoundError,
  PayloadTamperedError,
  NonRetriableError,
  RetryAfterError,
  NonDeterminismError,
  OperationCancelledError,
  CombinatorFailedError,
  AbandonedWaitError,
  BudgetExceededError,
  MaxTurnsExceededError,
  EmptyReplyError,
  ModelTimeoutError,
  ModelUnavailableError,
  ModelResponseError,
];
for (const cls of family) errorClasses[cls.name] = cls as unknown as new (message: string) => Error;

/**
 * The class to restore a journaled error with, by its `name`. An unknown name restores as
 * `EndureError` when the record says it was one of endure's (a class from a newer endure),
 * else as `Error`.
 */
export function errorClassFor(name: string, endure = false): new (message: string) => Error {
  return (
    errorClasses[name] ?? (endure ? (EndureError as unknown as new (m: string) => Error) : Error)
  );
}
