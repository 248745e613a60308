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

/** First wait between two reads of a remote A2A task, in milliseconds, when `a2aAgent` sets no
 * `pollEvery`: 1 s. Each wait doubles, up to `pollMax`. */
export const A2A_POLL_MS_DEFAULT = 1_000;

/** Longest wait between two reads of a remote A2A task, in milliseconds, when `a2aAgent` sets
 * no `pollMax`: 5 min. Waits longer than the engine's in-memory wait evict the run. */
export const A2A_POLL_MS_MAX_DEFAULT = 300_000;

/** How long a run waits for a remote A2A task to end, in milliseconds, when `a2aAgent` sets
 * no `timeout`: 7 days. */
export const A2A_WAIT_MS_DEFAULT = 7 * 24 * 60 * 60 * 1000;

/** Most reads of a remote task one wait may take (its `timeout` over its poll intervals):
 * 10,000. Each read journals a sleep and a step; a longer wait needs a longer `pollMax`. */
export const A2A_POLLS_MAX = 10_000;

/** How long one HTTP request to a remote A2A agent may take, in milliseconds: 30 s. A reply
 * to a task that asks for input waits for the task to move on, up to 60 s more. */
export const A2A_REQUEST_TIMEOUT_MS = 30_000;

/** Retries of a failed request to a remote A2A agent (down, 5xx, garbage): 5. */
export const A2A_RETRIES_DEFAULT = 5;
