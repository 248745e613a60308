/**
 * Model Context Protocol both ways. Tools of MCP servers become durable tool steps of agents
 * (their list journaled), and endure itself serves MCP so that another agent can start runs,
 * read their status, send events and decide approvals.
 *
 * @module endure/mcp
 */
export { mcpConnection, mcpStdio } from "./connection.js";
export type { McpConnection, McpStdioOptions } from "./connection.js";
export { IDEMPOTENCY_META_KEY, mcpTools } from "./tools.js";
export type { McpToolInfo, McpToolsOptions } from "./tools.js";
export { createMcpServer, serveMcpStdio } from "./server.js";
export type { McpServerOptions } from "./server.js";
