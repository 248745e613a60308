// Routes for durable memory (namespaces, keys by prefix, a key's value and history, writes by
// the token's owner) and for asking runs: queries and updates.
import { json } from "../json.js";
import { route, type Route } from "../route.js";
import * as s from "../schemas.js";

export const memoryRoutes: Route[] = [
  route({
    method: "get",
    path: "/v1/memory",
    operationId: "listMemoryNamespaces",
    summary: "Memory namespaces that hold keys, with how many and when one was last written.",
    access: "viewer",
    responses: { 200: "the namespaces, in name order" },
    async handle({ server }) {
      return json({ namespaces: await server.engine.memoryNamespaces() });
    },
  }),
  route({
    method: "get",
    path: "/v1/memory/{namespace}",
    operationId: "listMemoryKeys",
    summary: "Keys of a memory namespace in key order, with their values; `next` pages on.",
    access: "viewer",
    params: s.memoryNamespaceParams,
    query: s.memoryListQuery,
    responses: { 200: "a page of keys", 400: "a malformed namespace, prefix or limit" },
    async handle({ params, query, server }) {
      const page = await server.engine.memory(params.namespace).list({
        ...(query.prefix !== undefined ? { prefix: query.prefix } : {}),
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      return json(page);
    },
  }),
  route({
    method: "get",
    path: "/v1/memory/{namespace}/{key}",
    operationId: "getMemory",
    summary: "A memory key's value, version and last writer (URL-encode a key's slashes).",
    access: "viewer",
    params: s.memoryKeyParams,
    responses: { 200: "the key, or null when it has no value" },
    async handle({ params, server }) {
      const info = await server.engine.memory(params.namespace, params.key).info();
      return json(info);
    },
  }),
  route({
    method: "get",
    path: "/v1/memory/{namespace}/{key}/history",
    operationId: "getMemoryHistory",
    summary: "A memory key's last writes, newest first: which run (or who) wrote it, and when.",
    access: "viewer",
    params: s.memoryKeyParams,
    query: s.memoryHistoryQuery,
    responses: { 200: "the key's history" },
    async handle({ params, query, server }) {
      const history = await server.engine
        .memory(params.namespace, params.key)
        .history(query.limit !== undefined ? { limit: query.limit } : {});
      return json({ history });
    },
  }),
  route({
    method: "post",
    path: "/v1/memory/{namespace}/{key}",
    operationId: "setMemory",
    summary:
      "Sets a memory key, serialized with every run's writes; the writer is the token's name.",
    access: "operator",
    params: s.memoryKeyParams,
    body: s.memorySetBody,
    responses: { 200: "the key as written", 413: "the value is over MEMORY_VALUE_BYTES_MAX" },
    async handle({ params, body, caller, server }) {
      const written = await server.engine
        .memory(params.namespace, params.key)
        .set(body.value, { by: caller.name });
      return json(written);
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/queries/{name}",
    operationId: "queryRun",
    summary: "Asks the run a query (ctx.onQuery) from its current state; changes nothing.",
    access: "viewer",
    params: s.signalParams,
    body: s.argsBody,
    responses: {
      200: "the handler's answer, as `result`",
      404: "no such run or query",
      409: "the handler tried to change the run (query_refused)",
    },
    async handle({ params, body, server }) {
      return json({ result: await server.engine.query(params.id, params.name, body.args) });
    },
  }),
  route({
    method: "post",
    path: "/v1/runs/{id}/updates/{name}",
    operationId: "updateRun",
    summary:
      "Sends the run an update (ctx.onUpdate), exactly once per `id`, and answers with its result.",
    access: "operator",
    params: s.signalParams,
    body: s.updateBody,
    responses: {
      200: "the handler's result, as `result`",
      400: "the validator rejected the arguments (update_rejected): nothing was journaled",
      404: "no such run or update",
      409: "the run has ended",
    },
    async handle({ params, body, server, request }) {
      const result = await server.engine.update(params.id, params.name, body.args, {
        ...(body.id !== undefined ? { id: body.id } : {}),
        signal: request.signal,
      });
      return json({ result });
    },
  }),
];
