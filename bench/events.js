// The event measurements both benchmark parts use: the latency from sendEvent to the step
// after the wait running, and the rate at which events reach runs waiting for them.
import { createEngine, workflow } from "endure";

const silent = { warn: () => {} };

/** Resolves once `n` runs are in the store with status `waiting`. */
export async function waitWaiting(engine, n) {
  for (;;) {
    const page = await engine.listRuns({ status: "waiting", limit: 1000 });
    let count = page.runs.length;
    let next = page.next;
    while (next !== null && count < n) {
      const more = await engine.listRuns({ status: "waiting", limit: 1000, cursor: next });
      count += more.runs.length;
      next = more.next;
    }
    if (count >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Latency from sendEvent to the body of the step after the wait starting, for a run waiting in
 * memory or evicted to the store. Median and p90 of `n` runs, one at a time. `store()` makes
 * a new store.
 */
export async function eventLatency(store, evicted, n) {
  let bodyAt = 0;
  const waiter = workflow("event-waiter", async (ctx) => {
    await ctx.waitForEvent("go", { event: "go", match: { "data.run": ctx.runId } });
    await ctx.step("after", () => {
      bodyAt = performance.now();
    });
  });
  const engine = await createEngine({
    store: store(),
    workflows: [waiter],
    logger: silent,
    gcSchedule: null,
    worker: { inMemoryWait: evicted ? 1 : "1h" },
  });
  const samples = [];
  for (let i = 0; i < n; i++) {
    const run = await engine.start(waiter, undefined);
    for (;;) {
      const info = await engine.getRun(run.id);
      const journal = await engine.journal(run.id);
      if (
        journal.some((e) => e.type === "wait_started") &&
        (!evicted || info?.status === "waiting")
      )
        break;
      await new Promise((r) => setTimeout(r, 1));
    }
    bodyAt = 0;
    const t0 = performance.now();
    await engine.sendEvent({ name: "go", data: { run: run.id } });
    await run.result();
    samples.push(bodyAt - t0);
  }
  await engine.close();
  samples.sort((a, b) => a - b);
  return { n, medianMs: samples[Math.floor(n / 2)], p90Ms: samples[Math.floor(n * 0.9)] };
}

/**
 * `runs` runs wait (evicted to the store) for one event each; `senders` callers then send
 * the events, each its share one after another. Measures how fast the events are stored and
 * delivered to their waits (the senders' calls resolved), and how fast the runs they woke
 * finish (claimed, replayed, one step after the wait).
 */
export async function eventRate(store, runs, senders) {
  const waiter = workflow("rate-waiter", async (ctx) => {
    const event = await ctx.waitForEvent("go", {
      event: "rate.go",
      match: { "data.run": ctx.runId },
      timeout: "1h",
    });
    return ctx.step("after", () => event?.data.run === ctx.runId);
  });
  const engine = await createEngine({
    store: store(),
    workflows: [waiter],
    logger: silent,
    gcSchedule: null,
    worker: { inMemoryWait: 1 },
  });
  const handles = [];
  for (let done = 0; done < runs; done += 500) {
    const batch = Math.min(500, runs - done);
    handles.push(
      ...(await Promise.all(Array.from({ length: batch }, () => engine.start(waiter, undefined)))),
    );
  }
  await waitWaiting(engine, runs);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let i = s; i < runs; i += senders) {
        await engine.sendEvent({ name: "rate.go", data: { run: handles[i].id } });
      }
    }),
  );
  const sentMs = performance.now() - t0;
  const results = await Promise.all(handles.map((h) => h.result()));
  const doneMs = performance.now() - t0;
  await engine.close();
  if (!results.every((r) => r === true)) throw new Error("a run received another run's event");
  return {
    runs,
    senders,
    sentMs,
    doneMs,
    eventsPerSecond: (runs / sentMs) * 1000,
    resumedPerSecond: (runs / doneMs) * 1000,
  };
}

/** Events that no run waits for, sent one after another by one caller: events/s. */
export async function eventSendRate(store, events) {
  const engine = await createEngine({
    store: store(),
    workflows: [],
    logger: silent,
    gcSchedule: null,
  });
  const t0 = performance.now();
  for (let i = 0; i < events; i++) await engine.sendEvent({ name: "nobody.waits", data: { i } });
  const ms = performance.now() - t0;
  await engine.close();
  return { events, ms, eventsPerSecond: (events / ms) * 1000 };
}
