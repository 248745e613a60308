/**
 * Durable execution for Vercel AI SDK code. Model calls become journaled steps (paid once,
 * streams rebuilt on replay), tools become steps keyed by their call id, the SDK's approval
 * flags become endure approvals, and a run's output stream feeds useChat.
 *
 * @module endure/ai-sdk
 */

export { durableModel, endureMiddleware } from "./middleware.js";
export type { DurableModelOptions } from "./middleware.js";
export { durableTools } from "./durable-tools.js";
export type { DurableToolOptions, DurableToolsOptions } from "./durable-tools.js";
export { toUIMessageStream } from "./ui-stream.js";
export type { UIMessageStreamOptions } from "./ui-stream.js";
