// Engines left open when the process is about to exit: one `beforeExit` listener for all of
// them warns once per engine that `close()` was never called.

/** An open engine, as the exit warning names it. */
interface OpenEngine {
  readonly description: string;
  readonly warn: (message: string) => void;
}

const open = new Set<OpenEngine>();
let listening = false;

function warnOpen(): void {
  for (const engine of [...open]) {
    open.delete(engine);
    engine.warn(
      `the process is exiting with an engine on ${engine.description} still open: call ` +
        "`await engine.close()` when done (an open worker engine keeps the process alive, and " +
        "close() hands its runs back at once instead of after their lease)",
    );
  }
}

/** Tracks an engine from open to close; returns the function to call on close. */
export function trackOpenEngine(engine: OpenEngine): () => void {
  open.add(engine);
  if (!listening) {
    listening = true;
    process.on("beforeExit", warnOpen);
  }
  return () => {
    open.delete(engine);
  };
}
