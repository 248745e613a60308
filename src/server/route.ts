// A route as data: method, path, who may call it, the schemas of its path, query and body,
// and its handler. The app registers these, and the OpenAPI document is generated from them.
import type { z } from "zod";
import type { Engine } from "../engine/engine.js";
import type { Caller, Role } from "./auth.js";
import type { LiveConnections } from "./live.js";
import type { ResolvedOptions } from "./options.js";

/** What a handler gets: the checked request parts, the caller, and the server's parts. */
export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly caller: Caller;
  readonly request: Request;
  readonly server: ServerParts;
}

/** What every route can use. */
export interface ServerParts {
  readonly engine: Engine;
  readonly options: ResolvedOptions;
  readonly live: LiveConnections;
}

/** Who may call a route: a role at least, anyone (`public`), or a signed sender (`signed`). */
export type Access = Role | "public" | "signed";

/** One route of the API. */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  readonly method: "get" | "post";
  /** OpenAPI-style path: `/v1/runs/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly access: Access;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Status codes it answers with, and what each means. */
  readonly responses: Readonly<Record<number, string>>;
  /** Answers `text/event-stream` when the client asks for it (`Accept`). */
  readonly events?: string;
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<Response>;
}

/** A route with its types erased, as the app holds it. */
export type Route = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route, inferring its handler's input from its schemas. */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec;
}

/** True when the request asks for Server-Sent Events. */
export function wantsEvents(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/event-stream");
}
