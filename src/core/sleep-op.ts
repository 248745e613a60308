// Deterministic: a durable sleep: its wake-up time is journaled when it starts (a replay keeps
// it), then the run waits in memory, or the worker evicts it until then.
import { parseDuration, type Duration } from "./duration.js";
import { entryData, readEntryData } from "./entry-data.js";
import { InvalidArgumentError } from "./errors.js";
import type { JournalEntry } from "./journal.js";
import type { Op, OpScope } from "./op.js";
import { checkName } from "./workflow.js";

/** When a sleep that starts at `now` wakes. */
export type WakeAt = (now: number) => number;

/** Checks the arguments of `ctx.sleep` and `ctx.sleepUntil`; throws when they are invalid. */
export const checkedSleep = {
  duration(name: string, duration: Duration): WakeAt {
    checkName(name, "sleep name");
    const ms = parseDuration(duration, `sleep '${name}' duration`);
    return (now) => now + ms;
  },

  until(name: string, until: Date | number): WakeAt {
    const at = until instanceof Date ? until.getTime() : until;
    checkName(name, "sleep name");
    if (typeof at !== "number" || !Number.isFinite(at)) {
      throw new InvalidArgumentError(
        `sleepUntil '${name}' needs a valid Date or epoch milliseconds`,
      );
    }
    return () => at;
  },
};

/** Runs sleep `op` until it wakes, then hands it to the code. */
export async function runSleep(
  scope: OpScope,
  op: Op,
  wakeAtFrom: WakeAt,
  prior: readonly JournalEntry[] | undefined,
): Promise<void> {
  const started = prior?.find((e) => e.type === "sleep_started");
  let wakeAt: number;
  if (started !== undefined) {
    wakeAt = readEntryData(started, "sleep_started").wakeAt;
  } else {
    wakeAt = wakeAtFrom(scope.port.clock.now());
    scope.append({
      type: "sleep_started",
      at: scope.port.clock.now(),
      position: op.position,
      key: op.key,
      data: entryData.sleep_started({ wakeAt, site: op.site }),
    });
  }
  await scope.waitUntil(op.position, wakeAt);
  if (!scope.isCurrent(op)) return;
  scope.append({
    type: "sleep_completed",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.sleep_completed(),
  });
  scope.settleLive(op, () => op.resolve(undefined));
}
