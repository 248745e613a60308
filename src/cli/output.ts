// How commands print: tables and colours on a terminal, plain lines otherwise, JSON on --json.
import { formatDuration } from "../engine/explain-sentence.js";

/** Where a command writes: lines for people, on stdout and stderr. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** Colours, or none when the output is not a terminal (or NO_COLOR is set). */
export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const none = (s: string): string => s;

/** The style for a stream: colours only on a terminal, never with NO_COLOR. */
export function styleFor(tty: boolean, env: NodeJS.ProcessEnv): Style {
  if (!tty || env["NO_COLOR"] !== undefined)
    return { bold: none, dim: none, red: none, green: none, yellow: none };
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
  };
}

/** The printer a command gets: its output, its style, and whether to print JSON. */
export interface Printer {
  readonly out: Output;
  readonly style: Style;
  readonly json: boolean;
  readonly tty: boolean;
}

/** Prints `value` as one JSON document. */
export function printJson(p: Printer, value: unknown): void {
  p.out.log(JSON.stringify(value, null, 2));
}

// eslint-disable-next-line no-control-regex -- colour codes are measured out of cell widths
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (s: string): number => s.replace(ANSI, "").length;

/**
 * Rows as a table: aligned columns under a header on a terminal; tab-separated lines with a
 * header otherwise, for `cut` and `awk`.
 */
export function printTable(p: Printer, header: readonly string[], rows: readonly string[][]): void {
  if (!p.tty) {
    p.out.log(header.join("\t"));
    for (const row of rows) p.out.log(row.join("\t"));
    return;
  }
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - width(c))))
      .join("  ");
  p.out.log(p.style.bold(line(header)));
  for (const row of rows) p.out.log(line(row));
}

/** A run status, coloured by what it means. */
export function statusText(p: Printer, status: string): string {
  if (status === "completed") return p.style.green(status);
  if (status === "failed" || status === "timed_out" || status === "cancelled")
    return p.style.red(status);
  if (status === "paused") return p.style.yellow(status);
  return status;
}

/** "2h 3m ago", or "-" when there is no time. */
export function ago(at: Date | string | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return "-";
  return `${formatDuration(now - new Date(at).getTime())} ago`;
}
