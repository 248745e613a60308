// Retention: a built-in workflow deletes finished runs and spent events after the retention
// period, and memory keys after their namespace's, daily and on demand. Being a workflow, what it deleted is in its own journal.
import { GC_BATCH_MAX } from "../core/limits.js";
import { workflow, type Workflow } from "../core/workflow.js";
import type { Store } from "../store/store.js";

/** Name of the retention workflow every worker engine registers. */
export const GC_WORKFLOW = "endure.gc";

/** When the retention workflow runs by itself: daily at 03:17 UTC. */
export const GC_SCHEDULE_DEFAULT = "17 3 * * *";

/** What one pass of retention deleted. */
export interface GcResult {
  /** Runs that ended before this were deleted, with their journals. */
  readonly cutoff: Date;
  readonly runs: number;
  readonly events: number;
  /** Memory keys deleted by their namespace's retention (engine option `memoryRetention`). */
  readonly memory: number;
}

/** The retention workflow for a store; `schedule` null runs it only on demand. */
export function gcWorkflow(
  store: Store,
  retentionMs: number,
  schedule: string | null,
  memoryRetention: ReadonlyArray<readonly [string, number]> = [],
): Workflow<unknown, GcResult> {
  return workflow(
    GC_WORKFLOW,
    async (ctx) => {
      const cutoff = ctx.now() - retentionMs;
      let runs = 0;
      for (;;) {
        const ids = await ctx.step("delete finished runs", () =>
          store.deleteFinishedRuns(cutoff, GC_BATCH_MAX),
        );
        runs += ids.length;
        if (ids.length < GC_BATCH_MAX) break;
      }
      let events = 0;
      for (;;) {
        const n = await ctx.step("delete spent events", () =>
          store.deleteEvents(cutoff, GC_BATCH_MAX),
        );
        events += n;
        if (n < GC_BATCH_MAX) break;
      }
      let memory = 0;
      for (const [namespace, keepMs] of memoryRetention) {
        const before = ctx.now() - keepMs;
        for (;;) {
          const n = await ctx.step(`delete expired memory of ${namespace}`, () =>
            store.deleteMemory(namespace, before, GC_BATCH_MAX),
          );
          memory += n;
          if (n < GC_BATCH_MAX) break;
        }
      }
      return { cutoff: new Date(cutoff), runs, events, memory };
    },
    schedule === null ? {} : { schedule, timezone: "UTC", catchUp: "latest" },
  );
}
