// Deterministic: finds where user code called an endure operation, for divergence messages.
// Positions are those of the user's source (a `.ts` file under tsx, or the `.ts` a build came
// from), through the source map Node holds for the file or the one the file points to.
import { readFileSync } from "node:fs";
import { SourceMap, findSourceMap, type SourceMapPayload } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
    return original(file, frame.getLineNumber() ?? 0, frame.getColumnNumber() ?? 0);
  }
  return null;
}

/** A file's source map, or null; read once per file (workflow code has few files). */
const maps = new Map<string, SourceMap | null>();

/** `file:line:column` in the source `file` was made from, when a source map says. */
function original(file: string, line: number, column: number): string {
  const path = file.startsWith("file://") ? fileURLToPath(file) : file;
  const generated = `${path}:${line}:${column}`;
  if (line < 1 || column < 1) return generated;
  let map = maps.get(file);
  if (map === undefined) {
    map = findSourceMap(file) ?? findSourceMap(path) ?? mapNamedIn(path);
    maps.set(file, map);
  }
  if (map === null) return generated;
  const entry = map.findEntry(line - 1, column - 1) as Partial<{
    originalSource: string;
    originalLine: number;
    originalColumn: number;
  }>;
  if (entry.originalSource === undefined || entry.originalLine === undefined) return generated;
  const source = entry.originalSource.startsWith("file://")
    ? fileURLToPath(entry.originalSource)
    : resolve(dirname(path), entry.originalSource);
  return `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
}

/** The source map a compiled file names in its `sourceMappingURL` comment, or null. */
function mapNamedIn(path: string): SourceMap | null {
  try {
    const text = readFileSync(path, "utf8");
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
    if (url === undefined) return null;
    const json = url.startsWith("data:")
      ? Buffer.from(url.slice(url.indexOf(",") + 1), "base64").toString("utf8")
      : readFileSync(resolve(dirname(path), url), "utf8");
    const payload = JSON.parse(json) as SourceMapPayload;
    // Sources are relative to the map's own directory.
    const root = url.startsWith("data:") ? dirname(path) : dirname(resolve(dirname(path), url));
    return new SourceMap({
      ...payload,
      sources: payload.sources.map((s) => (s.startsWith("file:") ? s : resolve(root, s))),
    });
  } catch {
    return null;
  }
}
