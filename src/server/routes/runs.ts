// Routes that start and read runs.
import { parseDuration } from "../../core/duration.js";
import { RunNotFoundError } from "../../core/errors.js";
import { TERMINAL_STATUSES } from "../../core/types.js";
import type { Engine } from "../../engine/engine.js";
import type { RunInfo } from "../../engine/views.js";
import { invalidField } from "../errors.js";
import { json } from "../json.js";
import { WAIT_MS_MAX } from "../limits.js";
import { route, wantsEvents, type Route } from "../route.js";
import * as s from "../schemas.js";
import { followRun, followRunList } from "./live-runs.js";

/** Where a run and its output stream are, relative to the server. */
export function runUrls(id: string): { url: string; streamUrl: string } {
  const base = `/v1/runs/${encodeURIComponent(id)}`;
  return { url: base, streamUrl: `${base}/stream` };
}

/** The run, or 404. */
export async function runOr404(engine: Engine, id: string): Promise<RunInfo> {
  const run = await engine.getRun(id);
  if (run === null) throw new RunNotFoundError(`no run has the id '${id}'`);
  return run;
}

function waitMsOf(wait: string | undefined): number | null {
  if (wait === undefined) return null;
  let ms: number;
  try {
    ms = parseDuration(wait, "wait");
  } catch (e) {
    throw invalidField("wait", (e as Error).message);
  }
  if (ms > WAIT_MS_MAX)
    throw invalidField("wait", `wait may be at most ${WAIT_MS_MAX / 1000}s, got ${wait}`);
  return ms;
}

/** Waits up to `ms` for the run to end (its outcome is read from the run afterwards). */
async function waitForEnd(engine: Engine, id: string, ms: number): Promise<void> {
  await engine
    .handle(id)
    .result({ signal: AbortSignal.timeout(ms) })
    .catch(() => {});
}

export const runRoutes: Route[] = [
  route({
    method: "post",
    path: "/v1/workflows/{name}/runs",
    operationId: "startRun",
    summary:
      "Start a run (idempotent by id). With ?wait= the answer is its result when it ends in time, else 202.",
    access: "operator",
    params: s.workflowParams,
    query: s.startQuery,
    body: s.startBody,
    responses: {
      200: "the run already existed, or ended within the wait",
      201: "the run was created",
      202: "the run goes on past the wait: its URLs and where it is",
    },
    async handle({ params, query, body, caller, server: { engine } }) {
      const waitMs = waitMsOf(query.wait);
      const handle = await engine.start(params.name, body.input, {
        by: caller.name,
        ...(body.id !== undefined ? { id: body.id } : {}),
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
      });
      const urls = runUrls(handle.id);
      if (waitMs === null) {
        const run = await runOr404(engine, handle.id);
        return json({ run, created: handle.created, ...urls }, handle.created ? 201 : 200);
      }
      await waitForEnd(engine, handle.id, waitMs);
      const run = await runOr404(engine, handle.id);
      if (TERMINAL_STATUSES.has(run.status))
        return json({ run, created: handle.created, ...urls }, 200);
      const { sentence } = await engine.explain(handle.id);
      return json({ run, created: handle.created, ...urls, explain: sentence }, 202, {
        location: urls.url,
      });
    },
  }),
  route({
    method: "get",
    path: "/v1/runs",
    operationId: "listRuns",
    summary: "List runs, newest first, with filters and a cursor.",
    access: "viewer",
    query: s.listQuery,
    responses: { 200: "a page of runs and the cursor of the next" },
    events: "a `run` event each time a run of the first page changes; id: its updatedAt",
    async handle({ query, request, server }) {
      const options = {
        ...(query.workflow !== undefined ? { workflow: query.workflow } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.createdAfter !== undefined ? { createdAfter: new Date(query.createdAfter) } : {}),
        ...(query.createdBefore !== undefined
          ? { createdBefore: new Date(query.createdBefore) }
          : {}),
        ...(query.idContains !== undefined ? { idContains: query.idContains } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      };
      if (wantsEvents(request)) return followRunList(server, request, options);
      return json(await server.engine.listRuns(options));
    },
  }),
  route({
    method: "get",
    path: "/v1/runs/{id}",
    operationId: "getRun",
    summary: "A run as stored now.",
    access: "viewer",
    params: s.runParams,
    responses: { 200: "the run", 404: "no run has this id" },
    events: "a `run` event when the run changes, an `entry` event per journal entry; id: its seq",
    async handle({ params, request, server }) {
      const run = await runOr404(server.engine, params.id);
      if (wantsEvents(request)) return followRun(server, request, params.id);
      return json(run);
    },
  }),
  route({
    method: "get",
    path: "/v1/runs/{id}/journal",
    operationId: "readJournal",
    summary: "A page of the run's journal, from a seq on.",
    access: "viewer",
    params: s.runParams,
    query: s.journalQuery,
    responses: { 200: "entries, in order, and the seq of the next page", 404: "no such run" },
    async handle({ params, query, server }) {
      const page = await server.engine.journalPage(params.id, {
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      return json(page);
    },
  }),
  route({
    method: "get",
    path: "/v1/runs/{id}/explain",
    operationId: "explainRun",
    summary: "Where the run is and why, in one sentence and as a structured state.",
    access: "viewer",
    params: s.runParams,
    responses: { 200: "the explanation", 404: "no such run" },
    async handle({ params, server }) {
      return json(await server.engine.explain(params.id));
    },
  }),
];
