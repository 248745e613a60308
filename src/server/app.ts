// The Hono app: every route registered with the same steps (the caller, its role, the path,
// query and body checked), errors turned into responses in one place, CORS if configured,
// and static files at `/` if a directory is given.
import { createRequire } from "node:module";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { Authenticator, requireRole, type Caller } from "./auth.js";
import { errorResponse, RequestError } from "./errors.js";
import { socketsOfRequests } from "./live.js";
import { openApiDocument } from "./openapi.js";
import { redactResponse, redacts } from "./redact-response.js";
import { checked, parseJson, readBody, type NodeBody } from "./request.js";
import type { Route, ServerParts } from "./route.js";
import { mountA2A } from "./a2a/routes.js";
import { actionRoutes } from "./routes/actions.js";
import { memoryRoutes } from "./routes/memory.js";
import { messageRoutes } from "./routes/messages.js";
import { metaRoutes, openApiRoute } from "./routes/meta.js";
import { runRoutes } from "./routes/runs.js";
import { noParams, noQuery } from "./schemas.js";
import { SIGNATURE_HEADER, verifyWebhook } from "./webhooks.js";

const version = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

const PUBLIC_CALLER: Caller = { name: "anonymous", role: "viewer" };

/** Every route of the API, the OpenAPI route included. */
export function allRoutes(): Route[] {
  const routes: Route[] = [
    ...metaRoutes,
    ...runRoutes,
    ...actionRoutes,
    ...messageRoutes,
    ...memoryRoutes,
  ];
  const document = openApiDocument([...routes, openApiRoute(() => null)], version);
  return [...routes, openApiRoute(() => document)];
}

/** The app serving `routes` over the server's parts, and the A2A endpoints; `closers` gets
 * what must stop when the server closes. */
export function createApp(
  server: ServerParts,
  routes: readonly Route[],
  closers: (() => void)[] = [],
): Hono {
  const { options } = server;
  const auth = new Authenticator(options.tokens);
  const app = new Hono();
  app.onError((e) => errorResponse(e, options.docsBaseUrl, options.onError));
  if (redacts(server.engine)) {
    app.use("*", async (c, next) => {
      await next();
      c.res = await redactResponse(c.res, server.engine);
    });
  }
  if (options.cors !== null) {
    const origins = options.cors.origins;
    app.use(
      "/v1/*",
      cors({
        origin: origins === "*" ? "*" : [...origins],
        allowHeaders: ["authorization", "content-type", "last-event-id"],
        exposeHeaders: ["location", "retry-after"],
      }),
    );
  }
  for (const r of routes) {
    const path = r.path.replace(/\{(\w+)\}/g, ":$1");
    app.on(r.method.toUpperCase(), path, (c) => handle(c, r, server, auth));
  }
  closers.push(mountA2A(app, server, auth, version));
  app.all("/v1/*", (c) => {
    auth.caller(c.req.header("authorization"));
    throw new RequestError(
      "route_not_found",
      404,
      `no route ${c.req.method} ${c.req.path}; GET /v1/openapi.json lists them`,
    );
  });
  if (options.staticDir !== null) {
    const root = options.staticDir;
    app.use("/*", serveStatic({ root }));
    app.get("/*", serveStatic({ root, path: "index.html" }));
  }
  return app;
}

async function handle(
  c: Context,
  r: Route,
  server: ServerParts,
  auth: Authenticator,
): Promise<Response> {
  const request = c.req.raw;
  const env = c.env as { outgoing?: { destroy(): void }; incoming?: NodeBody } | undefined;
  const outgoing = env?.outgoing;
  if (outgoing !== undefined) socketsOfRequests.set(request, outgoing);
  let caller = PUBLIC_CALLER;
  if (r.access !== "public" && r.access !== "signed") {
    caller = auth.caller(c.req.header("authorization"));
    requireRole(caller, r.access);
  }
  const params: unknown = checked(r.params ?? noParams, c.req.param(), "path");
  const query: unknown = checked(r.query ?? noQuery, c.req.query(), "query");
  let body: unknown = undefined;
  if (r.body !== undefined) {
    const text = await readBody(request, server.options.bodyBytesMax, env?.incoming);
    if (r.access === "signed") {
      const source = (params as { source: string }).source;
      verifyWebhook(
        server.options.webhooks,
        source,
        c.req.header(SIGNATURE_HEADER) ?? null,
        text,
        Date.now(),
      );
      caller = { name: `webhook:${source}`, role: "operator" };
    }
    body = checked(r.body, parseJson(text), "body");
  }
  return r.handle({ params, query, body, caller, request, server });
}
