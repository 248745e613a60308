// A run's output stream as the AI SDK's UI message stream, for useChat and friends.
import type { UIMessageChunk } from "ai";
import type { StreamChunk } from "../engine/output-stream.js";

/** Options of {@link toUIMessageStream}. */
export interface UIMessageStreamOptions {
  /** Called with each part's offset as it is sent: remember it to re-attach after a disconnect. */
  onOffset?: (offset: number) => void;
}

/**
 * Turns a run's output stream (`handle.stream({ from })`) into a `ReadableStream` of UI message
 * chunks: give it to `createUIMessageStreamResponse` for an SSE response that `useChat` reads.
 * A `start` part is added when the run's stream has none at its beginning, and a `finish` part
 * when it ends without one.
 *
 * @example
 * ```ts
 * const run = engine.handle(runId);
 * return createUIMessageStreamResponse({ stream: toUIMessageStream(run.stream({ from })) });
 * ```
 */
export function toUIMessageStream(
  source: AsyncIterable<StreamChunk>,
  options: UIMessageStreamOptions = {},
): ReadableStream<UIMessageChunk> {
  const iterator = source[Symbol.asyncIterator]();
  let started = false;
  let finished = false;
  return new ReadableStream<UIMessageChunk>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) {
        if (!finished) controller.enqueue({ type: "finish" });
        controller.close();
        return;
      }
      const { offset, part } = next.value;
      if (!started && part.type !== "start") controller.enqueue({ type: "start" });
      started = true;
      if (part.type === "finish") finished = true;
      controller.enqueue(part as unknown as UIMessageChunk);
      options.onOffset?.(offset);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
