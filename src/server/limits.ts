// Every limit of the HTTP API, with its unit and reason, in one place.

/** Largest request body in bytes: 3 MiB. Room for a run input at the engine's payload limit
 * (2 MiB) written as JSON, and no more: a larger body is refused with 413 before it is read. */
export const BODY_BYTES_MAX_DEFAULT = 3 * 1024 * 1024;

/** Longest `?wait=` a start may ask for, in milliseconds: 60 s. Longer waits belong to the
 * run's stream or to polling, not to one open request. */
export const WAIT_MS_MAX = 60_000;

/** Bytes an SSE connection may queue for a client that does not read: 1 MiB. Beyond it the
 * producer stops reading the store until the client catches up. */
export const SSE_BUFFER_BYTES_MAX_DEFAULT = 1024 * 1024;

/** How long an SSE connection may stay full before the client is dropped, in milliseconds:
 * 30 s. A vanished client must not hold a connection (and its buffer) forever. */
export const SSE_STALL_MS_DEFAULT = 30_000;

/** Interval of SSE comments that keep idle connections open through proxies, in ms: 15 s. */
export const SSE_HEARTBEAT_MS_DEFAULT = 15_000;

/** How often a live run or run list reads the store for changes, in milliseconds: 250. */
export const SSE_POLL_MS_DEFAULT = 250;

/** Open SSE connections one server accepts at once: 1,000. Each holds a socket and a buffer. */
export const SSE_CONNECTIONS_MAX_DEFAULT = 1_000;

/** How far a signed webhook's timestamp may be from the server's clock, in ms: 5 min. An
 * older signature is refused, so a captured request cannot be replayed later. */
export const WEBHOOK_TOLERANCE_MS_DEFAULT = 5 * 60_000;

/** Seconds a client is told to wait (`Retry-After`) when the store is down: 5. */
export const RETRY_AFTER_SECONDS = 5;

/** Shortest token accepted in a tokens file, in characters: 16. Shorter ones can be guessed. */
export const TOKEN_LENGTH_MIN = 16;

/** Longest a blocking A2A `message/send` waits for its task to end or ask for input, in ms:
 * 60 s. Past it the task is returned as it is (`working`); `tasks/get` or a stream follows it. */
export const A2A_BLOCKING_WAIT_MS_MAX = 60_000;

/** Most parts one A2A message may carry: 100. More is refused with -32602 (invalid params). */
export const A2A_MESSAGE_PARTS_MAX = 100;

/** Longest A2A message id, in characters: 256. Task ids are derived from message ids. */
export const A2A_MESSAGE_ID_LENGTH_MAX = 256;

/** Most push-notification configs one A2A task may hold: 10. Each is called on every change. */
export const A2A_PUSH_CONFIGS_MAX = 10;

/** How long a push notification's receiver may take to answer, in ms: 10 s. A slower one
 * counts as failed and is tried again on the next change. */
export const A2A_PUSH_TIMEOUT_MS = 10_000;
