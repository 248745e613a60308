// The figures of a chaos run as a table of one row, for the terminal and docs/reliability.md.
import type { ChaosReport } from "./harness.js";

/** The report as a table of one row. */
export function formatReport(r: ChaosReport): string {
  const cells: Array<[string, string]> = [
    ["store", r.store],
    ["seed", String(r.seed)],
    ["kills", String(r.kills)],
    ["faults", String(r.faults)],
    ["conn faults", String(r.connectionFaults)],
    ["refused starts", String(r.refusedStarts)],
    ["runs", String(r.runs)],
    ["steps", String(r.steps)],
    ["events", String(r.events)],
    ["seconds", String(r.seconds)],
    ["violations", String(r.violations.length)],
  ];
  const widths = cells.map(([h, v]) => Math.max(h.length, v.length));
  const row = (values: string[]): string =>
    `| ${values.map((v, i) => v.padStart(widths[i] ?? 0)).join(" | ")} |`;
  return [
    row(cells.map(([h]) => h)),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    row(cells.map(([, v]) => v)),
  ].join("\n");
}
