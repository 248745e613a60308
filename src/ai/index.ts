/**
 * Durable agents. Model calls are steps whose responses are journaled (paid once), tool calls
 * are steps with their own retries (never duplicated), and every run keeps an output stream of
 * its tokens and tool progress.
 *
 * @module endure/ai
 */

export { agent } from "./agent.js";
export type { AgentOptions, AgentResult, AnswerCheck } from "./agent.js";
export type { AgentInput } from "./agent-input.js";
export { tool } from "./tool.js";
export type {
  Tool,
  ToolApproval,
  ToolApprovalRules,
  ToolContext,
  ToolDefinition,
  Tools,
  ToolStepOptions,
} from "./tool.js";
export { llm, usageSoFar } from "./llm.js";
export type { LlmOptions } from "./llm.js";
export { openaiCompatible } from "./openai.js";
export type { OpenAICompatibleOptions } from "./openai.js";
export { anthropic } from "./anthropic.js";
export type { AnthropicOptions } from "./anthropic.js";
export { scriptedModel } from "./scripted.js";
export type { ScriptedModelOptions, ScriptedReply, ScriptedToolCall } from "./scripted.js";
export { fullHistory, lastTurns } from "./context.js";
export type { ContextBuilder, ContextHost, ContextStrategy, LastTurnsOptions } from "./context.js";
export type { Budget } from "./budget.js";
export type { Model, ModelCall, ModelRetryPolicy, Price, PriceTable } from "./model.js";
export type {
  AssistantMessage,
  FinishReason,
  Message,
  ModelReply,
  ModelRequest,
  ModelResponse,
  TokenUsage,
  ToolCall,
  ToolMessage,
  ToolSpec,
  UserMessage,
} from "./messages.js";
export { a2aAgent } from "./a2a-client.js";
export type {
  A2AAgent,
  A2AAgentOptions,
  A2AMessageInput,
  A2AReply,
  A2ASendOptions,
} from "./a2a-client.js";
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
} from "./errors.js";
export * as aiLimits from "./limits.js";
