// The demo's worker process: `node --import tsx examples/demo/worker.ts <db> <delayMs>`. It
// opens the store and works on its runs (recovering the unfinished ones first, as every worker
// does) until SIGTERM or until the demo is gone. Each model call it makes is counted in a file beside the
// store before the model is called, so the count survives the process being killed.
import { appendFileSync } from "node:fs";
import { createEngine } from "endure";
import type { Model } from "endure/ai";
import { sqliteStore } from "endure/sqlite";
import { modelFromEnv } from "../models.js";
import { leadScout, offlineModel } from "./lead-scout.js";

/** The file beside a store where model calls are counted, one JSON line each. */
export const modelCallsFile = (db: string): string => `${db}.model-calls.jsonl`;

/** One model call, as counted. */
export interface CountedCall {
  readonly pid: number;
  /** The call's idempotency key: `<run>/<step>`. */
  readonly key: string;
  readonly attempt: number;
  /** When the call was made (ms since the epoch). */
  readonly at: number;
}

/** `model`, counting each call in `file` before making it. */
function counted(model: Model, file: string): Model {
  return {
    ...model,
    generate(request, call) {
      const line: CountedCall = {
        pid: process.pid,
        key: call.idempotencyKey,
        attempt: call.attempt,
        at: Date.now(),
      };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
      return model.generate(request, call);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [db = "", delay = "0"] = process.argv.slice(2);
  const { model } = modelFromEnv(process.env, offlineModel(Number(delay)));
  const engine = await createEngine({
    store: sqliteStore(db),
    workflows: [leadScout(counted(model, modelCallsFile(db)))],
    worker: { pollInterval: "50ms" },
  });
  // SIGTERM, or the demo gone (its end of stdin closes): a graceful stop, in which running
  // steps finish and leases are handed back.
  const stop = () => void engine.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.stdin.once("close", stop).resume();
  process.stdout.on("error", stop);
  process.stdout.write(`worker ${process.pid} ready\n`);
}
