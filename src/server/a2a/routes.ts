// The A2A endpoints of a server: each served workflow's Agent Card at
// `/a2a/<name>/.well-known/agent-card.json`, its JSON-RPC endpoint at `POST /a2a/<name>`
// (A2A v1.0 method names, and v0.3's `message/send` and the like through the SDK's compat
// layer), and `/.well-known/agent-card.json`: the card itself when one agent is served, else
// a list of the agents' cards.
import { AgentCard, type AgentCard as AgentCardType, type AgentSkill } from "@a2a-js/sdk";
import { JsonRpcTransportHandler, ServerCallContext } from "@a2a-js/sdk/server";
import { LegacyJsonRpcTransportHandler } from "@a2a-js/sdk/compat/v0_3/server";
import { A2A_ERROR_CODE } from "@a2a-js/sdk/errors";
import type { Context, Hono } from "hono";
import { requireRole, type Authenticator } from "../auth.js";
import { RequestError } from "../errors.js";
import { json } from "../json.js";
import { ConnectionEnded } from "../live.js";
import { readBody, type NodeBody } from "../request.js";
import type { ServerParts } from "../route.js";
import { EndureA2AHandler } from "./handler.js";
import { PushNotifier } from "./push.js";
import { servedAgents, type ServedAgent } from "./tasks.js";

type JsonRpcReply = {
  jsonrpc: string;
  id: string | number | null;
  result?: unknown;
  error?: unknown;
};

/** The card of one served agent, its interfaces at `base` (`http://host/a2a/<name>`). */
export function agentCardOf(agent: ServedAgent, base: string, version: string): AgentCardType {
  const description = agent.serving.description ?? `The endure workflow '${agent.name}'`;
  const skills: AgentSkill[] = (
    agent.serving.skills ?? [{ id: agent.name, name: agent.name, description }]
  ).map((s) => ({
    id: s.id,
    name: s.name,
    description: s.description,
    tags: [...(s.tags ?? [])],
    examples: [],
    inputModes: [],
    outputModes: [],
    securityRequirements: [],
  }));
  return {
    name: agent.name,
    description,
    supportedInterfaces: [
      { url: base, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "1.0" },
      { url: base, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "0.3" },
    ],
    provider: undefined,
    version,
    capabilities: { streaming: true, pushNotifications: true, extensions: [] },
    securitySchemes: {
      bearer: {
        scheme: {
          $case: "httpAuthSecurityScheme",
          value: { description: "the endure server's tokens", scheme: "Bearer", bearerFormat: "" },
        },
      },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ["text/plain", "application/json"],
    defaultOutputModes: ["text/plain", "application/json"],
    skills,
    signatures: [],
  };
}

/** Mounts the A2A endpoints on `app`; returns a function that stops the push notifier. */
export function mountA2A(
  app: Hono,
  server: ServerParts,
  auth: Authenticator,
  version: string,
): () => void {
  const served = servedAgents(server.engine);
  const pollMs = server.options.live.pollMs;
  const notifier = new PushNotifier(server.engine, served, pollMs, server.options.onError);
  if (served.size > 0) void notifier.start().catch(server.options.onError);
  const baseOf = (c: Context, name: string): string =>
    `${new URL(c.req.url).origin}/a2a/${encodeURIComponent(name)}`;
  const cardOf = (c: Context, agent: ServedAgent): AgentCardType =>
    agentCardOf(agent, baseOf(c, agent.name), version);
  const agentOr404 = (name: string): ServedAgent => {
    const agent = served.get(name);
    if (agent === undefined)
      throw new RequestError(
        "route_not_found",
        404,
        `no A2A agent is named '${name}' here; served: ${[...served.keys()].join(", ") || "none"} (agents unless a2a: false, workflows with the a2a option)`,
      );
    return agent;
  };

  app.get("/.well-known/agent-card.json", (c) => {
    const agents = [...served.values()];
    if (agents.length === 1) return json(AgentCard.toJSON(cardOf(c, agents[0] as ServedAgent)));
    return json({
      agents: agents.map((a) => ({
        name: a.name,
        description: cardOf(c, a).description,
        card: `${baseOf(c, a.name)}/.well-known/agent-card.json`,
      })),
    });
  });
  app.get("/a2a/:name/.well-known/agent-card.json", (c) =>
    json(AgentCard.toJSON(cardOf(c, agentOr404(c.req.param("name"))))),
  );
  const rpcRoute = async (c: Context): Promise<Response> => {
    const agent = agentOr404(c.req.param("name") ?? "");
    const caller = auth.caller(c.req.header("authorization"));
    requireRole(caller, "operator");
    const env = c.env as { incoming?: NodeBody } | undefined;
    const text = await readBody(c.req.raw, server.options.bodyBytesMax, env?.incoming);
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch (e) {
      return json({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: A2A_ERROR_CODE.PARSE_ERROR,
          message: `the request body is not JSON: ${(e as Error).message}`,
        },
      });
    }
    const request = body as { jsonrpc?: unknown; method?: unknown } | null;
    if (
      typeof request !== "object" ||
      request === null ||
      Array.isArray(request) ||
      request.jsonrpc !== "2.0" ||
      typeof request.method !== "string"
    ) {
      return json({
        jsonrpc: "2.0",
        id: idOf(body),
        error: {
          code: A2A_ERROR_CODE.INVALID_REQUEST,
          message:
            'not a JSON-RPC 2.0 request: send one object { "jsonrpc": "2.0", "id", "method", "params" } (batches are not served)',
        },
      });
    }
    const handler = new EndureA2AHandler(agent, {
      engine: server.engine,
      card: () => cardOf(c, agent),
      pollMs,
      watch: (taskId) => notifier.watch(taskId),
    });
    const legacy = request.method.includes("/");
    const context = new ServerCallContext({
      user: { isAuthenticated: true, userName: caller.name },
      requestedVersion: legacy ? "0.3" : "1.0",
    });
    const mapError = (e: unknown): unknown =>
      legacy
        ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(e)
        : JsonRpcTransportHandler.mapToJSONRPCError(e);
    const reply = legacy
      ? await new LegacyJsonRpcTransportHandler(handler).handle(
          body as Record<string, unknown>,
          context,
        )
      : await new JsonRpcTransportHandler(handler).handle(body as Record<string, unknown>, context);
    if (!isStream(reply)) return json(reply);
    const iterator = reply[Symbol.asyncIterator]();
    // The first answer decides: an error before the stream started is a plain JSON-RPC error.
    let first: IteratorResult<JsonRpcReply, void>;
    try {
      first = await iterator.next();
    } catch (e) {
      return json({ jsonrpc: "2.0", id: idOf(body), error: mapError(e) });
    }
    if (first.done === true) return json({ jsonrpc: "2.0", id: idOf(body), result: null });
    return server.live.respond(c.req.raw, async (sink) => {
      try {
        await sink.send({ data: first.value });
        for (;;) {
          if (sink.signal.aborted) return;
          const next = await iterator.next();
          if (next.done === true) return;
          await sink.send({ data: next.value });
        }
      } catch (e) {
        if (e instanceof ConnectionEnded) return;
        await sink.send({
          data: { jsonrpc: "2.0", id: idOf(body), error: mapError(e) },
        });
      } finally {
        await iterator.return?.(undefined);
      }
    });
  };
  app.post("/a2a/:name", rpcRoute);
  app.post("/a2a/:name/", rpcRoute);
  return () => notifier.close();
}

function isStream(
  reply: JsonRpcReply | AsyncGenerator<JsonRpcReply, void, undefined>,
): reply is AsyncGenerator<JsonRpcReply, void, undefined> {
  return (
    typeof (reply as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}
