// Proves the API's auth and error shapes over real HTTP: a missing or unknown token is 401
// on every route but health (also for runs and routes that do not exist, so nothing leaks),
// each role reaches only its routes (403 otherwise), a server without tokens refuses a
// non-loopback address, and malformed JSON, wrong types, unknown fields, an oversized body
// and unknown runs each answer with { error: { code, message, field?, docs } }.
import { describe, expect, it } from "vitest";
import { isEndureError, workflow } from "endure";
import { createServer, serverLimits } from "endure/server";
import { sqliteEngine } from "../helpers.js";
import { failure, serve, TOKENS } from "./support.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies of several shapes
type ErrorJson = any;

const echo = workflow("echo", async (_ctx, input: unknown) => input);

async function raw(
  url: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; body: ErrorJson; headers: Headers }> {
  const { token, ...rest } = init;
  const response = await fetch(url, {
    ...rest,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(rest.headers as Record<string, string> | undefined),
    },
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? null : JSON.parse(text),
    headers: response.headers,
  };
}

describe("auth", () => {
  it("answers health without a token and 401 everywhere else, never saying which runs exist", async () => {
    const s = await serve({ workflows: [echo] });
    await s.admin.start("echo", 1, { id: "known" });
    expect(await s.client().health()).toEqual({ ok: true });
    expect((await s.client().ready()).ok).toBe(true);
    for (const id of ["known", "unknown"]) {
      const e = await failure(s.client().getRun(id));
      expect(e).toMatchObject({ code: "unauthorized", status: 401 });
      const wrong = await failure(s.client("not-a-known-token-at-all").getRun(id));
      expect(wrong).toMatchObject({ code: "unauthorized", status: 401 });
    }
    const route = await raw(`${s.url}/v1/no-such-route`);
    expect(route.status).toBe(401);
    const routeWithToken = await raw(`${s.url}/v1/no-such-route`, {
      token: TOKENS[3]?.token ?? "",
    });
    expect(routeWithToken.body.error.code).toBe("route_not_found");
    const scheme = await raw(`${s.url}/v1/runs`, { headers: { authorization: "Basic abc" } });
    expect(scheme.status).toBe(401);
  });

  it("lets each role reach only its routes", async () => {
    const s = await serve({ workflows: [echo] });
    await s.admin.start("echo", 1, { id: "r-1", wait: "10s" });
    expect((await s.viewer.getRun("r-1")).status).toBe("completed");
    expect((await s.viewer.listRuns()).runs).toHaveLength(1);
    expect(await s.viewer.approvals()).toEqual([]);
    for (const client of [s.viewer, s.approver]) {
      expect(await failure(client.start("echo", 2))).toMatchObject({
        code: "forbidden",
        status: 403,
      });
      expect(await failure(client.cancel("r-1"))).toMatchObject({ code: "forbidden", status: 403 });
      expect(await failure(client.sendEvent({ name: "x" }))).toMatchObject({ code: "forbidden" });
    }
    expect(await failure(s.viewer.approve("r-1", "publish"))).toMatchObject({
      code: "forbidden",
      status: 403,
    });
    // A forbidden role learns nothing about the run: the refusal comes before any read.
    expect(await failure(s.viewer.cancel("no-such-run"))).toMatchObject({ code: "forbidden" });
    expect((await s.operator.start("echo", 3)).status).toBe(201);
    expect(await failure(s.approver.approve("r-1", "publish"))).toMatchObject({
      code: "approval_not_found",
      status: 404,
    });
  });

  it("refuses to listen beyond loopback without tokens, saying how to add one", async () => {
    const engine = await sqliteEngine({ workflows: [echo] });
    const server = createServer({ engine });
    const e = await failure(server.listen({ host: "0.0.0.0", port: 0 }));
    expect(isEndureError(e, "invalid_argument")).toBe(true);
    expect(e.message).toMatch(/without tokens.*tokens file.*"role": "admin"/s);
    const local = await server.listen({ host: "127.0.0.1", port: 0 });
    const response = await fetch(`${local.url}/v1/runs`);
    expect(response.status).toBe(200);
    await server.close();
  });
});

describe("error shapes", () => {
  it("names what was wrong: malformed JSON, wrong types, unknown fields, unknown runs", async () => {
    const s = await serve({ workflows: [echo] });
    const token = TOKENS[0]?.token ?? "";
    const post = (body: string) =>
      raw(`${s.url}/v1/workflows/echo/runs`, { method: "POST", body, token });
    const malformed = await post("{ not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({
      code: "invalid_argument",
      docs: expect.stringMatching(/invalid_argument\.md$/),
    });
    expect(malformed.body.error.message).toMatch(/not valid JSON/);
    const wrongType = await post(JSON.stringify({ id: 42, input: 1 }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({ code: "invalid_argument", field: "id" });
    const unknownField = await post(JSON.stringify({ input: 1, inptu: 2 }));
    expect(unknownField.body.error).toMatchObject({ code: "invalid_argument", field: "inptu" });
    expect(unknownField.body.error.message).toMatch(/unknown field 'inptu'/);
    const query = await raw(`${s.url}/v1/runs?colour=red`, { token });
    expect(query.body.error).toMatchObject({ code: "invalid_argument", field: "colour" });
    const missing = await raw(`${s.url}/v1/runs/nope`, { token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: {
        code: "run_not_found",
        message: expect.stringContaining("nope"),
        docs: expect.stringMatching(/run_not_found\.md$/),
      },
    });
    const viaClient = await failure(s.admin.getRun("nope"));
    expect(viaClient).toMatchObject({
      code: "run_not_found",
      status: 404,
      docs: expect.stringMatching(/run_not_found\.md$/),
    });
  });

  it("refuses a body over the limit with 413, at the edge of a configured limit", async () => {
    const limit = 1024;
    const s = await serve({ workflows: [echo] }, { bodyBytesMax: limit });
    const token = TOKENS[0]?.token ?? "";
    const bodyOf = (bytes: number): string => {
      const base = JSON.stringify({ input: "" });
      return JSON.stringify({ input: "x".repeat(bytes - base.length) });
    };
    const at = await raw(`${s.url}/v1/workflows/echo/runs`, {
      method: "POST",
      body: bodyOf(limit),
      token,
    });
    expect(at.status).toBe(201);
    const over = await raw(`${s.url}/v1/workflows/echo/runs`, {
      method: "POST",
      body: bodyOf(limit + 1),
      token,
    });
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe("payload_too_large");
    expect(over.body.error.message).toMatch(/1024 bytes/);
    // Streamed without a length, the limit holds as the body arrives.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(bodyOf(limit * 4)));
        c.close();
      },
    });
    const chunked = await fetch(`${s.url}/v1/workflows/echo/runs`, {
      method: "POST",
      body: stream,
      duplex: "half",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    expect(chunked.status).toBe(413);
    expect(serverLimits.BODY_BYTES_MAX_DEFAULT).toBe(3 * 1024 * 1024);
  });
});
