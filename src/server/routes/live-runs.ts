// Live views as Server-Sent Events: a run (its changes and journal entries), the run list,
// and a run's output stream. Each resumes after the `Last-Event-ID` the client sends.
import { TERMINAL_STATUSES } from "../../core/types.js";
import type { ListRunsOptions } from "../../engine/run-reads.js";
import { invalidField } from "../errors.js";
import type { ServerParts } from "../route.js";

/** The `Last-Event-ID` as a whole number, or null when absent. */
export function lastEventId(request: Request): number | null {
  const header = request.headers.get("last-event-id");
  if (header === null || header === "") return null;
  const n = Number(header);
  if (!Number.isSafeInteger(n) || n < 0)
    throw invalidField("Last-Event-ID", `Last-Event-ID must be a whole number, got '${header}'`);
  return n;
}

/**
 * A run's changes: an `entry` event per journal entry (id: its seq) and a `run` event each
 * time the run's row changes; `end` once it ended and every entry was sent.
 */
export function followRun(server: ServerParts, request: Request, id: string): Response {
  const { engine, options } = server;
  let next = (lastEventId(request) ?? 0) + 1;
  return server.live.respond(request, async (sink) => {
    let seenUpdate = -1;
    while (!sink.signal.aborted) {
      const run = await engine.getRun(id);
      if (run === null) return;
      const page = await engine.journalPage(id, { from: next });
      for (const entry of page.entries) {
        await sink.send({ id: entry.seq, event: "entry", data: entry });
        next = entry.seq + 1;
      }
      if (run.updatedAt.getTime() !== seenUpdate) {
        seenUpdate = run.updatedAt.getTime();
        await sink.send({ id: next - 1, event: "run", data: run });
      }
      if (page.next !== null) continue;
      if (TERMINAL_STATUSES.has(run.status)) {
        await sink.send({ event: "end", data: { status: run.status } });
        return;
      }
      await sink.sleep(options.live.pollMs);
    }
  });
}

/**
 * Changes of the run list's first page (with the list's filters): a `run` event per run
 * whose row changed (id: its updatedAt in ms). Resumed, it sends the runs changed since.
 */
export function followRunList(
  server: ServerParts,
  request: Request,
  filter: ListRunsOptions,
): Response {
  const { engine, options } = server;
  let since = lastEventId(request) ?? -1;
  return server.live.respond(request, async (sink) => {
    const sent = new Map<string, number>();
    while (!sink.signal.aborted) {
      const { runs } = await engine.listRuns(filter);
      const changed = runs
        .filter((r) => r.updatedAt.getTime() >= since && sent.get(r.id) !== r.updatedAt.getTime())
        .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
      for (const run of changed) {
        const at = run.updatedAt.getTime();
        sent.set(run.id, at);
        since = Math.max(since, at);
        await sink.send({ id: at, event: "run", data: run });
      }
      // Forget runs that left the page, so the map stays as small as the page.
      if (sent.size > runs.length * 2) {
        const onPage = new Set(runs.map((r) => r.id));
        for (const key of sent.keys()) if (!onPage.has(key)) sent.delete(key);
      }
      await sink.sleep(options.live.pollMs);
    }
  });
}

/**
 * A run's output stream from `from` (or after `Last-Event-ID`): one event per part (id: its
 * offset, data: the part), then `[DONE]` once the run ended, as the AI SDK's UI message
 * stream ends, so a `useChat` client can read it and reconnect mid-answer.
 */
export function followOutput(
  server: ServerParts,
  request: Request,
  id: string,
  from: number,
): Response {
  const last = lastEventId(request);
  const start = last === null ? from : last + 1;
  const response = server.live.respond(request, async (sink) => {
    const parts = server.engine.handle(id).stream({ from: start, signal: sink.signal });
    for await (const chunk of parts) await sink.send({ id: chunk.offset, data: chunk.part });
    await sink.send({ raw: "[DONE]" });
  });
  response.headers.set("x-vercel-ai-ui-message-stream", "v1");
  return response;
}
