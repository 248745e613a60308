// Streams a model's text into the run's output stream as AI SDK text parts, a few deltas per
// part: deltas arriving in one turn of the event loop are joined, so a fast model does not
// cost a commit per token.
import type { StreamPart } from "../core/stream.js";

/** Writes one text part (`text-start`, `text-delta`..., `text-end`) of id `id`. */
export class TextPartWriter {
  private started = false;
  private ended = false;
  private pending = "";
  private scheduled = false;

  constructor(
    private readonly emit: (part: StreamPart) => void,
    private readonly id: string,
  ) {}

  /** Adds text; it reaches the stream on the next turn of the event loop. */
  readonly write = (delta: string): void => {
    if (this.ended || delta === "") return;
    this.pending += delta;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  };

  /** Flushes what is pending and closes the part, if one was started. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    if (this.started) this.emit({ type: "text-end", id: this.id });
  }

  private flush(): void {
    if (this.ended || this.pending === "") return;
    if (!this.started) {
      this.started = true;
      this.emit({ type: "text-start", id: this.id });
    }
    this.emit({ type: "text-delta", id: this.id, delta: this.pending });
    this.pending = "";
  }
}
