// Deterministic: the errors endure/ai raises, defined beside the rest of endure's error
// family in core so the journal restores them as their own classes in every process.
export {
  A2ARequestRefusedError,
  A2AResponseError,
  A2ATaskFailedError,
  A2ATaskNotFoundError,
  A2AUnavailableError,
  BudgetExceededError,
  EmptyReplyError,
  MaxTurnsExceededError,
  ModelResponseError,
  ModelTimeoutError,
  ModelUnavailableError,
} from "../core/agent-errors.js";
