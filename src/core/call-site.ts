// Deterministic: finds where user code called an endure operation, for divergence messages.

const ownDir = new URL("..", import.meta.url).pathname;

/** Frames captured: endure's own frames come first, then the caller's. */
const FRAMES_MAX = 8;

type Frames = NodeJS.CallSite[];

function structured(_error: Error, frames: Frames): Frames {
  return frames;
}

/** The first stack frame outside endure's own files, as `file:line:column`, or null. */
export function callSite(): string | null {
  const holder: { stack?: Frames } = {};
  const stackTraceLimit = Error.stackTraceLimit;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back as it was
  const prepareStackTrace = Error.prepareStackTrace;
  Error.stackTraceLimit = FRAMES_MAX;
  // Structured frames skip formatting the whole stack as text: this runs on every new step.
  Error.prepareStackTrace = structured;
  Error.captureStackTrace(holder, callSite);
  const frames = holder.stack ?? [];
  Error.stackTraceLimit = stackTraceLimit;
  Error.prepareStackTrace = prepareStackTrace;
  for (const frame of frames) {
    const file = frame.getFileName() ?? "";
    if (file === "" || file.includes(ownDir) || file.startsWith("node:")) continue;
    return `${file.replace(/^file:\/\//, "")}:${frame.getLineNumber() ?? 0}:${frame.getColumnNumber() ?? 0}`;
  }
  return null;
}
