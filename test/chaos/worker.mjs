// A worker process of the chaos harness: runs the chaos workflows on a store until SIGTERM
// (a graceful close) or SIGKILL. It prints `ready` once its engine is open and `fault <op>`
// for every fault it injects, which the harness counts.
//
//   node worker.mjs <json options>
//   options: { store: "sqlite" | "postgres", target, log, side, workerId, seed, faultRate,
//              leaseMs, broken? }
import { createEngine } from "endure";
import { broken, withFaults } from "./faulty-store.mjs";
import { chaosWorkflows } from "./workflows.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const say = (line) => process.stdout.write(`${line}\n`);

// Only the store in use is loaded: workers start often.
let store =
  options.store === "sqlite"
    ? (await import("endure/sqlite")).sqliteStore(options.target, { durability: "process" })
    : (await import("endure/postgres")).postgresStore(options.target);
store = withFaults(store, {
  rate: options.faultRate,
  seed: options.seed,
  onFault: (op) => say(`fault ${op}`),
});
if (options.broken !== undefined)
  store = broken(store, options.broken, (what) => say(`lie ${what}`));

const engine = await createEngine({
  store,
  workflows: chaosWorkflows({
    logPath: options.log,
    sidePath: options.side,
    worker: options.workerId,
  }),
  worker: {
    workerId: options.workerId,
    lease: options.leaseMs,
    pollInterval: "50ms",
    // Waits longer than this evict the run, so sleeps and waits exercise replay.
    inMemoryWait: "100ms",
    // Kills land at random instants, often before a run makes progress: only a run that
    // kills its process on purpose should trip the crash-loop guard, and none here does.
    poisonRecoveries: 100_000,
    closeGrace: "2s",
  },
  retention: options.retention,
  gcSchedule: "*/3 * * * * *",
  logger: { warn: (m) => say(`warn ${m.replace(/\n/g, " ")}`) },
});
say("ready");

process.on("SIGTERM", () => {
  engine.close().then(
    () => process.exit(0),
    (e) => {
      say(`close failed ${e?.message}`);
      process.exit(1);
    },
  );
});
