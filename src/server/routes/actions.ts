// Routes that act on one run: its output stream, cancel, retry, rewind, fork, resume, and
// signals.
import { json } from "../json.js";
import { route, wantsEvents, type Route } from "../route.js";
import * as s from "../schemas.js";
import { followOutput } from "./live-runs.js";
import { runOr404 } from "./runs.js";

export const actionRoutes: Route[] = [
  route({
    method: "get",
    path: "/v1/runs/{id}/stream",
    operationId: "readStream",
    summary: "The run's output stream from an offset: a page of parts, or live as SSE.",
    access: "viewer",
    params: s.runParams,
    query: s.streamQuery,
    responses: { 200: "parts in offset order", 404: "no such run" },
    events: "one event per part (id: its offset, data: the part), then `[DONE]`",
    async handle({ params, query, request, server }) {
      if (wantsEvents(request)) {
        await runOr404(server.engine, params.id);
        return followOutput(server, request, params.id, query.from ?? 0);
      }
      const parts = await server.engine.readStream(params.id, {
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      return json({ parts });
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/cancel",
    operationId: "cancelRun",
    summary: "Cancel a run that has not ended (its cleanup runs); an ended run is unchanged.",
    access: "operator",
    params: s.runParams,
    body: s.cancelBody,
    responses: { 200: "the run as it is now", 404: "no such run" },
    async handle({ params, body, caller, server }) {
      const reason = body.reason ?? `cancelled by ${caller.name}`;
      return json(await server.engine.cancel(params.id, reason, { by: caller.name }));
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/retry",
    operationId: "retryRun",
    summary: "Run a failed run again from its failed step; its finished steps are not repeated.",
    access: "operator",
    params: s.runParams,
    body: s.emptyBody,
    responses: { 200: "the run, pending again", 404: "no such run", 409: "the run has not failed" },
    async handle({ params, caller, server }) {
      return json(await server.engine.retry(params.id, { by: caller.name }));
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/rewind",
    operationId: "rewindRun",
    summary:
      "Re-open a run that ended from a step (after a bug fix): the steps before it are not " +
      "run again; the journal keeps what happened and marks what is superseded. The rewinder " +
      "is the token's name.",
    access: "operator",
    params: s.runParams,
    body: s.rewindBody,
    responses: {
      200: "the run, pending again",
      404: "no such run, or no such step in its journal",
      409: "the run has not ended (cancel it first)",
    },
    async handle({ params, body, caller, server }) {
      return json(await server.engine.rewind(params.id, { toStep: body.toStep, by: caller.name }));
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/fork",
    operationId: "forkRun",
    summary:
      "Start a new run sharing the run's journal up to a step, optionally with that step's " +
      "output replaced. The forker is the token's name.",
    access: "operator",
    params: s.runParams,
    body: s.forkBody,
    responses: {
      201: "the fork, pending",
      400: "the fork id is taken, or the output cannot be journaled",
      404: "no such run, or no such step in its journal",
    },
    async handle({ params, body, caller, server }) {
      const fork = await server.engine.fork(params.id, {
        atStep: body.atStep,
        ...("output" in body ? { output: body.output } : {}),
        ...(body.id === undefined ? {} : { id: body.id }),
        by: caller.name,
      });
      return json(fork, 201);
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/resume",
    operationId: "resumeRun",
    summary:
      "Make a paused run (non-determinism, crash loop, missing version) runnable again; " +
      "with `version`, on that version of its workflow.",
    access: "operator",
    params: s.runParams,
    body: s.resumeBody,
    responses: {
      200: "the run, pending again",
      400: "the run is not paused, or the version is not registered",
      404: "no such run",
    },
    async handle({ params, body, server }) {
      return json(
        await server.engine.resume(
          params.id,
          body.version === undefined ? {} : { version: body.version },
        ),
      );
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/signals/{name}",
    operationId: "signalRun",
    summary: "Send a signal to a run; it is buffered until the run reads it.",
    access: "operator",
    params: s.signalParams,
    body: s.signalBody,
    responses: { 202: "the signal was stored", 404: "no such run", 409: "the run has ended" },
    async handle({ params, body, server }) {
      await server.engine.signal(params.id, params.name, body.data);
      return json({ sent: true }, 202);
    },
  }),
];
