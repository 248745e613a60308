// npm run demo:api: the HTTP API end to end on the embedded SQLite store. A server starts on
// a free loopback port with two tokens; an operator starts a run that needs a manager's
// approval (the start's ?wait= answers 202 with where the run is); the manager, holding an
// approver token, lists open approvals and approves; the run's output streams back as it
// ends. Everything goes through endure/client, as a CLI, a dashboard or a script would.
import { mkdirSync } from "node:fs";
import { createEngine, workflow } from "endure";
import { createClient } from "endure/client";
import { createServer, type Token } from "endure/server";
import { sqliteStore } from "endure/sqlite";

export const refund = workflow(
  "refund",
  async (ctx, input: { order: string; amountUsd: number }) => {
    const quote = await ctx.step("check order", () => ({ order: input.order, refundable: true }));
    ctx.emit({ type: "text-delta", id: "status", delta: `order ${quote.order} is refundable. ` });
    const decision = await ctx.approval("refund", {
      title: `Refund $${input.amountUsd} for ${input.order}?`,
      approvers: ["manager@example.com"],
      timeout: "2d",
    });
    if (!decision.approved) return { refunded: false, by: decision.by };
    await ctx.step("issue refund", ({ idempotencyKey }) => ({ receipt: idempotencyKey }));
    ctx.emit({ type: "text-delta", id: "status", delta: `refunded, approved by ${decision.by}.` });
    return { refunded: true, by: decision.by };
  },
);

const tokens: Token[] = [
  { name: "ops-bot", token: "example-operator-token-1", role: "operator" },
  { name: "manager@example.com", token: "example-approver-token-1", role: "approver" },
];

export async function main(
  options: { path?: string; log?: (line: string) => void } = {},
): Promise<unknown> {
  const path = options.path ?? ".endure/api-demo.db";
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.path === undefined) mkdirSync(".endure", { recursive: true });
  const engine = await createEngine({ store: sqliteStore(path), workflows: [refund] });
  const server = createServer({ engine, tokens });
  const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
  log(`server on ${url}`);
  try {
    const ops = createClient({ url, token: "example-operator-token-1" });
    const manager = createClient({ url, token: "example-approver-token-1" });
    const started = await ops.start(
      "refund",
      { order: "A-1009", amountUsd: 42 },
      { id: "refund-A-1009", wait: "1s" },
    );
    log(
      `POST /v1/workflows/refund/runs -> ${started.status}: ${started.explain ?? started.run.status}`,
    );
    for (const approval of await manager.approvals()) {
      log(`open approval: ${approval.title} (approvers: ${approval.approvers.join(", ")})`);
      if (approval.runId === started.run.id) {
        const { outcome, by } = await manager.approve(approval.runId, approval.name, {
          comment: "ok",
        });
        log(`approved by ${by}: ${outcome}`);
      }
    }
    let text = "";
    for await (const { part } of ops.followStream(started.run.id))
      if (typeof part.delta === "string") text += part.delta;
    log(`stream: ${text}`);
    const run = await ops.getRun(started.run.id);
    log(`result: ${JSON.stringify(run.output)}`);
    return run.output;
  } finally {
    await server.close();
    await engine.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
