/**
 * The typed client of the endure HTTP API (browsers, Node, edge runtimes).
 *
 * @module endure/client
 */
export { createClient, EndureClient } from "./client.js";
export type { ClientOptions, FollowOptions } from "./client.js";
export { ApiError } from "./errors.js";
export { isEndureError } from "../core/errors.js";
export type * from "./types.js";
export * as clientLimits from "./limits.js";
