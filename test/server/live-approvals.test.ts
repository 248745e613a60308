// Proves the API's live and human routes over real HTTP through endure/client: approvals of
// every run listed oldest first with who may decide, decided as the token's identity (403
// for someone not among the approvers, 409 when decided already); events sent by token and
// by HMAC-signed webhooks (bad signature, unknown source and a stale timestamp refused);
// SSE of a run, of the run list and of an output stream, each resumed from Last-Event-ID
// with nothing missed or repeated; and a client that stops reading is dropped.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { signWebhook } from "endure/server";
import { eventually } from "../helpers.js";
import { failure, serve } from "./support.js";

const publish = workflow("publish", async (ctx, input: { approvers: string[] }) => {
  const decision = await ctx.approval("publish", {
    title: "Publish the summary?",
    approvers: input.approvers,
    timeout: "7d",
  });
  return decision.by;
});

const listen = workflow("listen", async (ctx, input: { ticket: string }) => {
  const event = await ctx.waitForEvent("update", {
    event: "ticket.updated",
    match: { "data.ticket": input.ticket },
    timeout: "1h",
  });
  return event?.data;
});

const talker = workflow(
  "talker",
  async (ctx, input: { parts: number; pause: boolean; pad?: number }) => {
    const pad = " ".repeat(input.pad ?? 0);
    for (let i = 0; i < input.parts; i++)
      ctx.emit({ type: "text-delta", id: "t", delta: `w${i} ${pad}` });
    if (input.pause) await ctx.waitForSignal("more", { timeout: "1h" });
    ctx.emit({ type: "text-delta", id: "t", delta: "end" });
    return "done";
  },
);

const SECRET = "crm-secret-0123456789abcdef";

describe("approvals", () => {
  it("lists open approvals oldest first and records the token's name as the decider", async () => {
    const s = await serve({ workflows: [publish] });
    await s.operator.start("publish", { approvers: ["maria@example.com"] }, { id: "p-1" });
    await s.operator.start("publish", { approvers: ["someone@else.com"] }, { id: "p-2" });
    const open = await eventually(async () => {
      const list = await s.viewer.approvals();
      return list.length === 2 ? list : null;
    });
    expect(open.map((a) => a.runId)).toEqual(["p-1", "p-2"]);
    expect(open[0]).toMatchObject({
      name: "publish",
      title: "Publish the summary?",
      approvers: ["maria@example.com"],
      workflow: "publish",
    });
    expect(Date.parse(open[0]?.timesOutAt ?? "")).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    const notMine = await failure(s.approver.approve("p-2", "publish"));
    expect(notMine).toMatchObject({ code: "approval_not_allowed", status: 403 });
    const decided = await s.approver.approve("p-1", "publish", { comment: "ship it" });
    expect(decided).toEqual({ outcome: "settled", by: "maria@example.com" });
    const again = await failure(s.approver.reject("p-1", "publish"));
    expect(again).toMatchObject({ code: "approval_decided", status: 409 });
    const run = await eventually(async () => {
      const r = await s.viewer.getRun("p-1");
      return r.status === "completed" ? r : null;
    });
    expect(run.output).toBe("maria@example.com");
    const journal = await s.viewer.journal("p-1");
    const completed = journal.entries.find((e) => e.type === "wait_completed");
    expect(JSON.stringify(completed?.data)).toContain("maria@example.com");
    expect((await s.viewer.approvals()).map((a) => a.runId)).toEqual(["p-2"]);
  });
});

describe("events and webhooks", () => {
  it("delivers events sent with a token or signed by a webhook source, and refuses bad signatures", async () => {
    const s = await serve({ workflows: [listen] }, { webhooks: { crm: { secret: SECRET } } });
    await s.operator.start("listen", { ticket: "T-1" }, { id: "l-1" });
    await s.operator.start("listen", { ticket: "T-2" }, { id: "l-2" });
    await eventually(async () => (await s.viewer.getRun("l-2")).status === "waiting");
    const sent = await s.operator.sendEvent({
      name: "ticket.updated",
      data: { ticket: "T-1", by: "token" },
      id: "e-1",
    });
    expect(sent).toMatchObject({ id: "e-1", created: true });
    expect(
      (await s.operator.sendEvent({ name: "ticket.updated", data: { ticket: "T-1" }, id: "e-1" }))
        .created,
    ).toBe(false);

    const post = (path: string, body: string, signature?: string) =>
      fetch(`${s.url}${path}`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          ...(signature ? { "endure-signature": signature } : {}),
        },
      });
    const body = JSON.stringify({
      name: "ticket.updated",
      data: { ticket: "T-2", by: "crm" },
      id: "crm-7",
    });
    const refusals = [
      await post("/v1/webhooks/crm", body),
      await post("/v1/webhooks/crm", body, signWebhook("wrong-secret-0123456789", body)),
      await post("/v1/webhooks/crm", body.replace("crm", "cr0"), signWebhook(SECRET, body)),
      await post("/v1/webhooks/crm", body, signWebhook(SECRET, body, Date.now() - 10 * 60_000)),
      await post("/v1/webhooks/erp", body, signWebhook(SECRET, body)),
    ];
    for (const r of refusals) {
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
        "signature_invalid",
      );
    }
    expect((await s.viewer.getRun("l-2")).status).toBe("waiting");
    const accepted = await post("/v1/webhooks/crm", body, signWebhook(SECRET, body));
    expect(accepted.status).toBe(202);
    for (const id of ["l-1", "l-2"])
      await eventually(async () => (await s.viewer.getRun(id)).status === "completed");
    expect((await s.viewer.getRun("l-1")).output).toMatchObject({ by: "token" });
    expect((await s.viewer.getRun("l-2")).output).toMatchObject({ by: "crm" });
  });
});

describe("live updates", () => {
  it("follows a run's journal live and resumes from Last-Event-ID without gaps or repeats", async () => {
    const s = await serve({ workflows: [talker] }, { live: { pollMs: 20 } });
    await s.operator.start("talker", { parts: 2, pause: true }, { id: "t-1" });
    const firstPart: number[] = [];
    const abort = new AbortController();
    for await (const update of s.viewer.followRun("t-1", { signal: abort.signal })) {
      if (update.kind === "entry") firstPart.push(update.entry.seq);
      if (update.kind === "run" && update.run.status === "waiting") break;
    }
    abort.abort();
    expect(firstPart[0]).toBe(1);
    const lastSeen = firstPart[firstPart.length - 1] ?? 0;
    // Reconnect as a browser would, with the last id it saw.
    const response = await fetch(`${s.url}/v1/runs/t-1`, {
      headers: {
        authorization: "Bearer viewer-token-0123456789",
        accept: "text/event-stream",
        "last-event-id": String(lastSeen),
      },
    });
    await s.operator.signal("t-1", "more");
    const text = await response.text();
    const ids = [...text.matchAll(/^id: (\d+)\nevent: entry$/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(lastSeen + 1);
    expect(new Set([...firstPart, ...ids]).size).toBe(firstPart.length + ids.length);
    expect(text).toMatch(/event: end\ndata: \{"status":"completed"\}/);
    const journal = await s.viewer.journal("t-1");
    expect([...firstPart, ...ids]).toEqual(journal.entries.map((e) => e.seq));
  });

  it("streams output parts as SSE for useChat, resuming after Last-Event-ID, ending with [DONE]", async () => {
    const s = await serve({ workflows: [talker] });
    await s.operator.start("talker", { parts: 5, pause: true }, { id: "o-1" });
    const seen: string[] = [];
    let last = -1;
    for await (const chunk of s.viewer.followStream("o-1")) {
      seen.push(String(chunk.part.delta));
      last = chunk.offset;
      if (seen.length === 3) break;
    }
    const raw = await fetch(`${s.url}/v1/runs/o-1/stream`, {
      headers: {
        authorization: "Bearer viewer-token-0123456789",
        accept: "text/event-stream",
        "last-event-id": String(last),
      },
    });
    expect(raw.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    await s.operator.signal("o-1", "more");
    const text = await raw.text();
    const rest = [...text.matchAll(/^id: (\d+)\ndata: (.*)$/gm)].map(
      (m) => JSON.parse(m[2] ?? "") as { delta: string },
    );
    expect([...seen, ...rest.map((p) => p.delta)]).toEqual([
      "w0 ",
      "w1 ",
      "w2 ",
      "w3 ",
      "w4 ",
      "end",
    ]);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const all: string[] = [];
    for await (const chunk of s.viewer.followStream("o-1", { from: 4 }))
      all.push(String(chunk.part.delta));
    expect(all).toEqual(["w4 ", "end"]);
    const page = await s.viewer.readStream("o-1", { from: 1, limit: 2 });
    expect(page.parts.map((p) => p.offset)).toEqual([1, 2]);
  });

  it("follows the run list and resumes with the runs changed since the last event", async () => {
    const s = await serve({ workflows: [talker] }, { live: { pollMs: 20 } });
    await s.operator.start("talker", { parts: 0, pause: true }, { id: "a" });
    const abort = new AbortController();
    const seen = new Map<string, string>();
    for await (const run of s.viewer.followRuns({ workflow: "talker" }, { signal: abort.signal })) {
      seen.set(run.id, run.status);
      if (run.id === "a" && run.status === "waiting") break;
    }
    const lastAt = Date.now();
    await s.operator.start("talker", { parts: 0, pause: false }, { id: "b", wait: "10s" });
    const response = await fetch(`${s.url}/v1/runs?workflow=talker`, {
      headers: {
        authorization: "Bearer viewer-token-0123456789",
        accept: "text/event-stream",
        "last-event-id": String(lastAt),
      },
      signal: AbortSignal.timeout(1_000),
    });
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"id":"b"')) text += (await reader?.read())?.value ?? "";
    await reader?.cancel();
    expect(text).not.toContain('"id":"a"');
    expect(text).toContain('"status":"completed"');
  });

  it("drops a client that stops reading, and frees its connection", async () => {
    const s = await serve(
      { workflows: [talker] },
      { live: { bufferBytesMax: 4096, stallMs: 300 } },
    );
    // 16 MB of parts: more than loopback socket buffers hold, so the server's buffer fills.
    await s.operator.start("talker", { parts: 1000, pause: true, pad: 16_000 }, { id: "big" });
    await eventually(async () => (await s.viewer.getRun("big")).status === "waiting");
    const url = new URL(s.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.pause();
    socket.write(
      "GET /v1/runs/big/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" +
        "Authorization: Bearer viewer-token-0123456789\r\n\r\n",
    );
    // Never reading for a while: the socket buffers fill, then the server's bounded buffer,
    // then the stall time passes and the server drops the connection.
    await new Promise((r) => setTimeout(r, 3_000));
    let received = 0;
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.resume();
    await Promise.race([
      closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("not dropped in 20 s")), 20_000),
      ),
    ]);
    // What arrived is what was buffered before the drop, not the whole 16 MB stream.
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(16_000_000);
    const after = await s.viewer.readStream("big", { from: 0, limit: 1 });
    expect(after.parts).toHaveLength(1);
  });
});
