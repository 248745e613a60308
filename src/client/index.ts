// endure/client: the typed client of the endure HTTP API (browsers, Node, edge runtimes).
export { createClient, EndureClient } from "./client.js";
export type { ClientOptions, FollowOptions } from "./client.js";
export { ApiError } from "./errors.js";
export { isEndureError } from "../core/errors.js";
export type * from "./types.js";
export * as clientLimits from "./limits.js";
