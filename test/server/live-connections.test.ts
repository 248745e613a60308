// Proves that a live connection's producer may wait as often as it likes without growing
// anything: each sleep's abort listener goes with its timer, so an SSE client following the
// run list for hours holds one listener, not one per poll.
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { LiveConnections } from "../../src/server/live.js";

describe("live connections", () => {
  it("hold no listener per sleep of their producer", async () => {
    const live = new LiveConnections({
      bufferBytesMax: 64 * 1024,
      stallMs: 5_000,
      heartbeatMs: 60_000,
      pollMs: 1,
      connectionsMax: 10,
    });
    const SLEEPS = 50;
    const counts: number[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const response = live.respond(new Request("http://127.0.0.1/v1/runs/live"), async (sink) => {
      for (let i = 0; i < SLEEPS; i++) {
        await sink.sleep(1);
        counts.push(getEventListeners(sink.signal, "abort").length);
      }
      finished();
    });
    const reading = response.text();
    await done;
    await reading;
    expect(counts).toHaveLength(SLEEPS);
    expect(Math.max(...counts)).toBe(0);
    expect(live.size).toBe(0);
  });
});
