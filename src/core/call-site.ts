// Deterministic: finds where user code called an endure operation, for divergence messages.
// Positions are those of the code Node runs; a `SitePlacer` given by the host (the worker maps
// them through source maps) turns them into the user's own source positions.

const ownDir = new URL("..", import.meta.url).pathname;

/** Frames captured: endure's own frames come first, then the caller's. */
const FRAMES_MAX = 8;

type Frames = NodeJS.CallSite[];

function structured(_error: Error, frames: Frames): Frames {
  return frames;
}

/** Turns a call site (`file:line:column` of the code Node runs) into the user's own source. */
export type SitePlacer = (file: string, line: number, column: number) => string;

/** Call sites as Node sees them. */
export const placeAsRun: SitePlacer = (file, line, column) =>
  `${file.replace(/^file:\/\//, "")}:${line}:${column}`;

/** The first stack frame outside endure's own files, as `file:line:column`, or null. */
export function callSite(place: SitePlacer = placeAsRun): string | null {
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
    return place(file, frame.getLineNumber() ?? 0, frame.getColumnNumber() ?? 0);
  }
  return null;
}
