// Deterministic: finds where user code called an endure operation, for divergence messages.

const ownDir = new URL("..", import.meta.url).pathname;

/** The first stack frame outside endure's own files, as `file:line:column`, or null. */
export function callSite(): string | null {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, callSite);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? "").split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.includes(ownDir) || line.includes("node:internal")) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line);
    if (m?.[1] !== undefined) return m[1].replace(/^file:\/\//, "");
  }
  return null;
}
