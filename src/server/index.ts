/**
 * The HTTP API of an engine.
 *
 * @module endure/server
 */
export { createServer, isLoopback } from "./server.js";
export { dashboardDir } from "./dashboard.js";
export type { EndureServer, ListenOptions } from "./server.js";
export type { ServerOptions, WebhookSource } from "./options.js";
export { parseTokens, readTokensFile } from "./auth.js";
export type { Caller, Role, Token } from "./auth.js";
export { signWebhook, SIGNATURE_HEADER } from "./webhooks.js";
export type { ErrorBody } from "./errors.js";
export * as serverLimits from "./limits.js";
