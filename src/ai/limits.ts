// Every limit of endure/ai, with its unit and reason, in one place.

/** Turns (model calls) an agent may take when it sets no `maxTurns`: 20. */
export const AGENT_TURNS_DEFAULT = 20;

/** Most turns an agent may ask for: 1,000. Each turn is journaled; longer work belongs in
 * several runs. */
export const AGENT_TURNS_MAX = 1_000;

/** Retries of a failed model call (429, 5xx, timeout, network) when the model sets none: 5. */
export const MODEL_RETRIES_DEFAULT = 5;

/** How long one HTTP model request may take, in milliseconds, when the adapter sets no
 * `timeout`: 2 min. It covers the whole response, streamed or not. */
export const MODEL_REQUEST_TIMEOUT_MS_DEFAULT = 120_000;

/** Longest `Retry-After` honoured, in milliseconds: 10 min. A provider asking for longer is
 * retried after this; the run waits durably either way. */
export const MODEL_RETRY_AFTER_MS_MAX = 600_000;

/** Output tokens asked of Anthropic when the request sets none (the API requires a number). */
export const ANTHROPIC_MAX_TOKENS_DEFAULT = 4_096;

/** Most characters of a tool result sent to the model: 50,000. Longer results are cut, and
 * the model is told so; the journal keeps the whole result. */
export const TOOL_RESULT_CHARS_MAX = 50_000;

/** Most tools one agent may offer: 128 (the limit of the major providers). */
export const AGENT_TOOLS_MAX = 128;

/** Empty replies in a row an agent answers with a reminder before failing: 1. */
export const EMPTY_REPLIES_MAX = 1;

/** Fewest output tokens a call may be left under a budget: below this the agent stops. */
export const BUDGET_OUTPUT_TOKENS_MIN = 16;

/** Longest text of an error answer sent to a model or written to a stream: 2,000 chars. */
export const ERROR_TEXT_CHARS_MAX = 2_000;

/** Most tools an MCP server's list may hold: 128 (as {@link AGENT_TOOLS_MAX}). */
export const MCP_TOOLS_MAX = 128;
