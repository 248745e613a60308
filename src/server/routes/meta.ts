// Routes about the server itself: liveness, readiness, the OpenAPI document; and the signed
// webhook route through which other systems send events.
import { json } from "../json.js";
import { route, type Route } from "../route.js";
import * as s from "../schemas.js";
import { eventOf } from "./messages.js";

export const metaRoutes: Route[] = [
  route({
    method: "get",
    path: "/v1/health",
    operationId: "health",
    summary: "Liveness: the server answers. No token needed.",
    access: "public",
    responses: { 200: "alive" },
    handle: () => Promise.resolve(json({ ok: true })),
  }),
  route({
    method: "get",
    path: "/v1/health/ready",
    operationId: "ready",
    summary: "Readiness: the store answers and the engine is open. No token needed.",
    access: "public",
    responses: { 200: "ready", 503: "not ready: the store is down or the engine closing" },
    async handle({ server }) {
      const health = await server.engine.health();
      const body = { ok: health.ok, store: health.store, closing: health.closing };
      return json(body, health.ok ? 200 : 503, health.ok ? {} : { "retry-after": "5" });
    },
  }),
  route({
    method: "get",
    path: "/v1/whoami",
    operationId: "whoami",
    summary: "The caller: the token's name and role (the dashboard shows what the role may do).",
    access: "viewer",
    responses: { 200: "the caller" },
    handle: ({ caller }) => Promise.resolve(json({ name: caller.name, role: caller.role })),
  }),
  route({
    method: "post",
    path: "/v1/webhooks/{source}",
    operationId: "receiveWebhook",
    summary:
      "Send an event signed with the source's secret (Endure-Signature: t=<unix s>,v1=<HMAC-SHA256 hex of 't.body'>) instead of a token.",
    access: "signed",
    params: s.webhookParams,
    body: s.eventBody,
    responses: { 202: "the event was stored", 401: "the signature was refused" },
    async handle({ body, server }) {
      return json(await server.engine.sendEvent(eventOf(body)), 202);
    },
  }),
];

/** The route serving the OpenAPI document of `routes`. */
export function openApiRoute(document: () => unknown): Route {
  return route({
    method: "get",
    path: "/v1/openapi.json",
    operationId: "openapi",
    summary: "This API as an OpenAPI 3.1 document.",
    access: "viewer",
    responses: { 200: "the document" },
    handle: () => Promise.resolve(json(document())),
  });
}
