// Every limit of the client, with its unit and reason.

/** Reconnects in a row (without an event received between them) before a live iteration
 * gives up and throws: 10. */
export const RECONNECTS_MAX = 10;

/** First delay before a reconnect, in milliseconds: 250 (doubling after each failure). */
export const RECONNECT_DELAY_MS_INITIAL = 250;

/** Longest delay before a reconnect, in milliseconds: 5 s. */
export const RECONNECT_DELAY_MS_MAX = 5_000;

/** Longest SSE event the client accepts, in bytes of text: 8 MiB. A larger one means the
 * stream is not an endure stream, and reading on would grow memory without bound. */
export const EVENT_TEXT_BYTES_MAX = 8 * 1024 * 1024;
