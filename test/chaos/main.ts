// `npm run chaos -- --store sqlite|postgres --kills N --workers W --seed S`: one chaos run,
// its table of figures, and exit code 1 when any invariant was violated.
import { parseArgs } from "node:util";
import { runChaos, type ChaosOptions } from "./harness.js";
import { formatReport } from "./report.js";

/** Violations printed at the most; the count is always printed. */
const VIOLATIONS_SHOWN_MAX = 50;

function options(): ChaosOptions {
  const { values } = parseArgs({
    options: {
      store: { type: "string", default: "sqlite" },
      kills: { type: "string", default: "100" },
      workers: { type: "string", default: "2" },
      seed: { type: "string", default: String(Date.now() % 100_000) },
      runs: { type: "string" },
      "fault-rate": { type: "string" },
      broken: { type: "string" },
      "no-connection-faults": { type: "boolean", default: false },
    },
  });
  const store = values.store;
  if (store !== "sqlite" && store !== "postgres")
    throw new Error(`--store must be sqlite or postgres, got ${store}`);
  const int = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${what} must be a whole number, got ${v}`);
    return n;
  };
  const broken = values.broken;
  if (broken !== undefined && broken !== "drop-commit" && broken !== "replay-step")
    throw new Error(`--broken must be drop-commit or replay-step, got ${broken}`);
  return {
    store,
    kills: int(values.kills, "kills"),
    workers: Math.max(1, int(values.workers, "workers")),
    seed: int(values.seed, "seed"),
    ...(values.runs === undefined ? {} : { runs: int(values.runs, "runs") }),
    ...(values["fault-rate"] === undefined ? {} : { faultRate: Number(values["fault-rate"]) }),
    ...(broken === undefined ? {} : { broken }),
    connectionFaults: !values["no-connection-faults"],
    log: (line) => console.log(`  ${line}`),
  };
}

const opts = options();
console.log(
  `chaos: ${opts.store}, ${opts.kills} kills, ${opts.workers} workers, seed ${opts.seed}`,
);
const report = await runChaos(opts);
console.log(formatReport(report));
for (const v of report.violations.slice(0, VIOLATIONS_SHOWN_MAX)) console.log(`violation: ${v}`);
if (report.violations.length > VIOLATIONS_SHOWN_MAX)
  console.log(`... and ${report.violations.length - VIOLATIONS_SHOWN_MAX} more`);
process.exit(report.violations.length > 0 ? 1 : 0);
