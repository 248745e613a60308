// Where a call was made in the user's own source: Node's positions (of a tsx-transformed
// file, or of a build) mapped through the source map Node holds for the file, or through the
// map the compiled file names in its `sourceMappingURL` comment (read once per file).
import { readFileSync } from "node:fs";
import { SourceMap, findSourceMap, type SourceMapPayload } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SitePlacer } from "../core/call-site.js";

/** A file's source map, or null; read once per file (workflow code has few files). */
const maps = new Map<string, SourceMap | null>();

/** `file:line:column` in the source `file` was made from, when a source map says. */
export const placeInSource: SitePlacer = (file, line, column) => {
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
};

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
