// Runs nobody starts by hand: one per event for workflows `on` an event, one per tick for
// workflows with a `schedule`. Run ids derive from the event id or the tick, so a redelivered
// event or several engines sharing a store start each run exactly once.
import { Cron } from "croner";
import type { Clock, TimerHandle } from "../core/clock.js";
import { InvalidArgumentError } from "../core/errors.js";
import { parseDuration } from "../core/duration.js";
import type { NewEntry } from "../core/journal.js";
import { concurrencyKeyOf } from "../core/flow-control.js";
import { PRIORITY_DEFAULT, SCHEDULE_CATCH_UP_MAX, TRIGGER_BATCH_MAX } from "../core/limits.js";
import { validate } from "../core/schema.js";
import { entryData } from "../core/entry-data.js";
import { decodeValue, encodeValue } from "../core/serialize.js";
import { encodeReceivedEvent } from "../core/wait-values.js";
import type { Workflow } from "../core/workflow.js";
import type { CreateResult, RunCreate, Store } from "../store/store.js";

/** Ticks looked at, at the most, to find the ones missed during downtime. */
const TICK_SCAN_MAX = 100_000;

/** What starters need from their worker. */
export interface StarterServices {
  readonly store: Store;
  readonly clock: Clock;
  create(create: RunCreate): Promise<CreateResult>;
  /** New runs exist: look for work. */
  started(): void;
  warn(message: string): void;
}

/** Checks a workflow's schedule; throws a typed error for a malformed expression or zone. */
export function cronOf(workflow: Workflow<unknown, unknown>): Cron | null {
  const { schedule, timezone } = workflow.options;
  if (schedule === undefined) return null;
  try {
    const cron = new Cron(schedule, {
      paused: true,
      ...(timezone !== undefined ? { timezone } : { timezone: "UTC" }),
    });
    cron.nextRun(new Date(0));
    return cron;
  } catch (e) {
    throw new InvalidArgumentError(
      `workflow '${workflow.name}' schedule ${JSON.stringify(schedule)}${timezone === undefined ? "" : ` in ${timezone}`} is not valid: ` +
        `${(e as Error).message}. Use five fields (minute hour day month weekday), such as "0 9 * * 1-5", and an IANA time zone`,
    );
  }
}

/** Starts event-triggered and scheduled runs for the workflows of one worker. */
export class Starters {
  private readonly triggered: Array<Workflow<unknown, unknown>>;
  private readonly scheduled: Array<{ workflow: Workflow<unknown, unknown>; cron: Cron }>;
  private readonly timers = new Map<string, TimerHandle>();
  private closed = false;

  constructor(
    workflows: Iterable<Workflow<unknown, unknown>>,
    private readonly services: StarterServices,
  ) {
    const list = [...workflows];
    this.triggered = list.filter((w) => w.options.on !== undefined);
    this.scheduled = list.flatMap((w) => {
      const cron = cronOf(w);
      return cron === null ? [] : [{ workflow: w, cron }];
    });
  }

  /** Starts from now: events and ticks before the first start of a workflow start nothing. */
  async open(): Promise<void> {
    const now = this.services.clock.now();
    const lastEvent = this.triggered.length > 0 ? await this.services.store.lastEventPos() : 0;
    for (const wf of this.triggered) {
      if ((await this.services.store.cursor(triggerCursor(wf))) === null)
        await this.services.store.setCursor(triggerCursor(wf), lastEvent);
    }
    for (const { workflow, cron } of this.scheduled) {
      if ((await this.services.store.cursor(scheduleCursor(workflow))) === null)
        await this.services.store.setCursor(scheduleCursor(workflow), now);
      await this.tick(workflow, cron);
    }
  }

  /** Whether an event of this name starts a run of one of these workflows. */
  triggers(eventName: string): boolean {
    return this.triggered.some((w) => w.options.on === eventName);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) t.cancel();
  }

  /** Starts a run for every new event of each trigger; returns how many it started. */
  async startTriggered(): Promise<number> {
    let started = 0;
    for (const wf of this.triggered) {
      for (;;) {
        const after = (await this.services.store.cursor(triggerCursor(wf))) ?? 0;
        const events = await this.services.store.eventsAfter(
          wf.options.on ?? "",
          after,
          TRIGGER_BATCH_MAX,
        );
        for (const e of events) {
          const input = encodeReceivedEvent(e.id, e.name, e.data, e.receivedAt);
          if (await this.create(wf, `${wf.name}:${e.id}`, input, `event ${e.id}`)) started++;
        }
        const last = events[events.length - 1];
        if (last !== undefined) await this.services.store.setCursor(triggerCursor(wf), last.pos);
        if (events.length < TRIGGER_BATCH_MAX) break;
      }
    }
    if (started > 0) this.services.started();
    return started;
  }

  private async tick(workflow: Workflow<unknown, unknown>, cron: Cron): Promise<void> {
    if (this.closed) return;
    try {
      const now = this.services.clock.now();
      const last = (await this.services.store.cursor(scheduleCursor(workflow))) ?? now;
      const due = dueTicks(cron, last, now);
      const chosen = choose(due, workflow.options.catchUp ?? "latest");
      let started = 0;
      for (const at of chosen) {
        const input = encodeValue({ scheduledAt: new Date(at) }, "schedule input");
        if (
          await this.create(
            workflow,
            `${workflow.name}@${new Date(at).toISOString()}`,
            input,
            `tick ${new Date(at).toISOString()}`,
          )
        )
          started++;
      }
      const latest = due[due.length - 1];
      if (latest !== undefined)
        await this.services.store.setCursor(scheduleCursor(workflow), latest);
      if (started > 0) this.services.started();
    } catch (e) {
      this.services.warn(
        `schedule of workflow '${workflow.name}' failed (${(e as Error).message}); retrying at its next tick`,
      );
    }
    const next = cron.nextRun(new Date(this.services.clock.now()));
    if (next === null || this.closed) return;
    const handle = this.services.clock.setTimer(
      Math.max(0, next.getTime() - this.services.clock.now()),
      () => void this.tick(workflow, cron),
    );
    this.timers.get(workflow.name)?.cancel();
    this.timers.set(workflow.name, handle);
  }

  /** Creates a run unless it exists; false (with a warning) when its input fails the schema. */
  private async create(
    wf: Workflow<unknown, unknown>,
    id: string,
    input: string,
    what: string,
  ): Promise<boolean> {
    let value = decodeValue(input);
    if (wf.options.input !== undefined) {
      const checked = await validate(wf.options.input, value);
      if (!checked.ok) {
        this.services.warn(
          `workflow '${wf.name}' did not start for ${what}: its input fails the schema (${checked.issues})`,
        );
        return false;
      }
      value = checked.value;
    }
    let concurrencyKey: string | null;
    try {
      concurrencyKey = concurrencyKeyOf(wf.options.concurrency, value, wf.name);
    } catch (e) {
      this.services.warn(
        `workflow '${wf.name}' did not start for ${what}: ${(e as Error).message}`,
      );
      return false;
    }
    const now = this.services.clock.now();
    const started: NewEntry = {
      type: "run_started",
      at: now,
      position: null,
      key: null,
      data: entryData.run_started({
        workflow: wf.name,
        version: wf.options.version ?? null,
        trigger: what,
      }),
    };
    const deadlineAt =
      wf.options.ttl === undefined ? null : now + parseDuration(wf.options.ttl, "ttl");
    const result = await this.services.create({
      id,
      workflow: wf.name,
      version: wf.options.version ?? null,
      input,
      started,
      claim: null,
      deadlineAt,
      priority: wf.options.priority ?? PRIORITY_DEFAULT,
      concurrencyKey,
    });
    return result.created;
  }
}

function triggerCursor(wf: Workflow<unknown, unknown>): string {
  return `trigger:${wf.name}`;
}

function scheduleCursor(wf: Workflow<unknown, unknown>): string {
  return `schedule:${wf.name}`;
}

/** Ticks after `last` up to and including `now`, oldest first. */
function dueTicks(cron: Cron, last: number, now: number): number[] {
  const ticks: number[] = [];
  let from = new Date(last);
  for (let i = 0; i < TICK_SCAN_MAX; i++) {
    const next = cron.nextRun(from);
    if (next === null || next.getTime() > now) break;
    ticks.push(next.getTime());
    from = next;
  }
  return ticks;
}

function choose(due: number[], catchUp: "latest" | "all" | "none"): number[] {
  if (due.length === 0) return [];
  if (catchUp === "all") return due.slice(-SCHEDULE_CATCH_UP_MAX);
  const latest = due[due.length - 1] as number;
  // "none" starts a tick only when it is the one just due, not one missed during downtime.
  if (catchUp === "none") return due.length === 1 ? [latest] : [];
  return [latest];
}
