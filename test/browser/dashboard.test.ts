// Proves the dashboard works end to end in Debian's Chromium against the real endure server
// on loopback over a real SQLite file: a wrong token is refused; a run appears live in the
// list; a run's waterfall shows its steps; an approval decided with a comment lets the run
// finish and puts the comment in its journal; an event and a cancellation sent from the page
// reach their runs; an agent's output stream is followed while it runs; a viewer's token
// gets the actions disabled; and a 390 px screen shows the list and the inbox without
// sideways scrolling. It saves the screenshots docs/dashboard.md shows.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflow, type Engine } from "endure";
import { agent, scriptedModel, tool } from "endure/ai";
import { z } from "zod";
import { CHROMIUM_INSTALL_MS_MAX, launchChromium } from "../support/chromium.js";
import { openDashboardServer, TOKENS, type DashboardServer } from "../support/dashboard-server.js";

const images = new URL("../../docs/images/", import.meta.url).pathname;
/** Generous: the machine running the tests may be busy; nothing here measures speed. */
const SEEN_MS_MAX = 20_000;

let release: () => void = () => {};
const toolGate = new Promise<void>((resolve) => (release = resolve));

const order = workflow("order", async (ctx, input: { sku: string; qty: number }) => {
  const [stock, price] = await Promise.all([
    ctx.step("check stock", async () => ({ sku: input.sku, available: 40 })),
    ctx.step("quote price", async () => ({ usd: 12.5 * input.qty })),
  ]);
  const decision = await ctx.approval("ship", {
    title: `Ship ${input.qty} × ${input.sku}?`,
    details: { stock, price, to: "Acme GmbH, Berlin" },
  });
  return ctx.step("ship", async () => ({ shipped: decision.approved }));
});
const contract = workflow("contract", async (ctx) =>
  ctx.approval("sign", {
    title: "Sign the vendor contract?",
    details: { vendor: "Globex", usd: 48_000 },
    approvers: ["legal@acme.io"],
    policy: [{ after: "1s", action: "escalate", to: ["cfo@acme.io"] }],
  }),
);
const payment = workflow("payment", async (ctx, input: { invoice: string }) => {
  const paid = await ctx.waitForEvent("paid", {
    event: "invoice.paid",
    match: { "data.invoice": input.invoice },
    timeout: "7d",
  });
  return ctx.step("book", async () => ({ booked: paid }));
});
const nap = workflow("nap", async (ctx) => {
  await ctx.sleep("long nap", "30d");
  return "rested";
});
const flaky = workflow("flaky", async (ctx) =>
  ctx.step(
    "call partner",
    async ({ attempt }) => {
      if (attempt < 3) throw new Error(`partner answered 503 (attempt ${attempt})`);
      return { ok: true };
    },
    { retries: 3, backoff: { initial: "10ms", max: "10ms" } },
  ),
);
const scout = agent("scout", {
  model: scriptedModel(
    [
      {
        text: "Let me search for leads first.",
        toolCalls: [{ name: "search", input: { q: "vector databases" } }],
        usage: { inputTokens: 300, outputTokens: 40 },
      },
      {
        text: "Found three leads: Acme, Globex and Initech.",
        usage: { inputTokens: 420, outputTokens: 60 },
      },
    ],
    { model: "scripted-mini" },
  ),
  tools: {
    search: tool({
      description: "Search the web",
      input: z.object({ q: z.string() }),
      run: async () => {
        await toolGate;
        return ["Acme", "Globex", "Initech"];
      },
    }),
  },
});

let browser: Browser;
let served: DashboardServer;
let engine: Engine;
const admin = TOKENS.find((t) => t.role === "admin")!.token;
const viewer = TOKENS.find((t) => t.role === "viewer")!.token;

beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  browser = await launchChromium();
  served = await openDashboardServer([order, contract, payment, nap, flaky, scout]);
  engine = served.engine;
}, CHROMIUM_INSTALL_MS_MAX);

afterAll(async () => {
  release();
  await browser?.close();
  await served?.close();
});

async function signedIn(token = admin, width = 1280, hash = "#/runs"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 860 } });
  page.setDefaultTimeout(SEEN_MS_MAX);
  await page.goto(`${served.url}/${hash}`);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(images, name), fullPage: true });

describe("the dashboard against the real server", () => {
  it("refuses a wrong token and keeps the right one in the session only", async () => {
    const page = await browser.newPage();
    await page.goto(`${served.url}/`);
    await page.getByLabel("Token").fill("not-a-token-of-this-server");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("refused this token");
    await page.getByLabel("Token").fill(admin);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    const stored = await page.evaluate(`({
      session: sessionStorage.getItem("endure.token"),
      local: Object.keys(localStorage).filter((k) => localStorage.getItem(k).includes("${admin}")),
      cookie: document.cookie,
    })`);
    expect(stored).toEqual({ session: admin, local: [], cookie: "" });
    await page.close();
  });

  it("shows a run appear in the list live, and its timeline with attempts", async () => {
    const page = await signedIn();
    await page.getByRole("table", { name: "Runs" }).waitFor();
    await engine.start(flaky, undefined, { id: "flaky-1" });
    const row = page.locator('tr[data-run="flaky-1"]');
    await row.waitFor();
    await page.locator('tr[data-run="flaky-1"] .status.completed').waitFor();
    await shot(page, "dashboard-runs.png");
    await row.getByRole("link").click();
    await page.getByText("3 attempts").waitFor();
    await page.locator(".explain", { hasText: "completed" }).waitFor();
    await page.getByRole("button", { name: "call partner" }).click();
    await expect(page.getByLabel("Error of attempt 1").textContent()).resolves.toContain("503");
    await page.close();
  });

  it("decides an approval with a comment; the run finishes and the journal has the comment", async () => {
    await engine.start(order, { sku: "KB-87", qty: 12 }, { id: "order-7" });
    await served.eventually(
      async () => (await engine.explain("order-7")).state.kind === "waiting_for_approval",
    );
    await engine.start(contract, undefined, { id: "contract-3" });
    await served.eventually(
      async () => (await engine.approvals({ runId: "contract-3" }))[0]?.escalatedTo.length === 1,
    );
    const page = await signedIn(admin, 1280, "#/approvals");
    await page.getByTestId("approvals-badge").waitFor();
    const card = page.locator('[data-approval="order-7/ship"]');
    await card.getByText("Acme GmbH, Berlin").waitFor();
    await page
      .locator('[data-approval="contract-3/sign"] .escalated', { hasText: "cfo@acme.io" })
      .waitFor();
    await shot(page, "dashboard-approvals.png");
    await card.getByRole("button", { name: "Approve…" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.textContent()).resolves.toContain("Acme GmbH, Berlin");
    await dialog.getByLabel(/Comment/).fill("Checked the stock with Jan: ship it");
    await dialog.getByRole("button", { name: "Approve", exact: true }).click();
    await page.goto(`${served.url}/#/runs/order-7`);
    await page.locator(".explain", { hasText: "completed" }).waitFor();
    await page.getByRole("button", { name: "check stock" }).waitFor();
    await page.getByRole("button", { name: "quote price" }).waitFor();
    await shot(page, "dashboard-timeline.png");
    await page.getByRole("link", { name: /Journal/ }).click();
    await page
      .locator("table[aria-label=Journal]", { hasText: "Checked the stock with Jan: ship it" })
      .waitFor();
    await page.close();
  });

  it("sends an event that wakes a waiting run", async () => {
    await engine.start(payment, { invoice: "INV-9" }, { id: "payment-9" });
    const page = await signedIn(admin, 1280, "#/runs/payment-9");
    await page.locator(".explain", { hasText: "invoice.paid" }).waitFor();
    await page.getByRole("button", { name: "Send event…" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByLabel("Event name").inputValue()).resolves.toBe("invoice.paid");
    await dialog.getByLabel(/Data/).fill('{"invoice": "INV-9", "usd": 150}');
    await dialog.getByRole("button", { name: "Send event" }).click();
    await page.locator(".explain", { hasText: "completed" }).waitFor();
    await page.close();
  });

  it("cancels a run with a reason, after a confirmation", async () => {
    await engine.start(nap, undefined, { id: "nap-1" });
    const page = await signedIn(admin, 1280, "#/runs/nap-1");
    await page.getByRole("button", { name: "Cancel run…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel(/Reason/).fill("not needed any more");
    await dialog.getByRole("button", { name: "Cancel the run" }).click();
    await page.locator(".status.cancelled").first().waitFor();
    await expect(engine.getRun("nap-1").then((r) => r?.status)).resolves.toBe("cancelled");
    await page.close();
  });

  it("follows an agent's output stream while it runs", async () => {
    await engine.start(scout, { prompt: "Find three vector-database leads" }, { id: "scout-1" });
    const page = await signedIn(admin, 1280, "#/runs/scout-1/conversation");
    await page.getByText("Let me search for leads first.").waitFor();
    await page.locator(".msg.tool", { hasText: "search" }).waitFor();
    await expect(page.getByText("Found three leads").count()).resolves.toBe(0);
    release();
    await page.getByText("Found three leads: Acme, Globex and Initech.").waitFor();
    await page.getByText("The stream has ended").waitFor();
    await page.getByRole("link", { name: "Timeline" }).click();
    await page.getByText("scripted-mini").first().waitFor();
    await page.close();
  });

  it("disables the actions a viewer's token may not take", async () => {
    await engine.start(nap, undefined, { id: "nap-2" });
    const page = await signedIn(viewer, 1280, "#/runs/nap-2");
    const cancel = page.getByRole("button", { name: "Cancel run…" });
    await cancel.waitFor();
    await expect(cancel.isDisabled()).resolves.toBe(true);
    await expect(cancel.getAttribute("title")).resolves.toContain("viewer");
    await page.close();
  });

  it("asks what a waiting run waits for once, however many live updates arrive", async () => {
    const page = await signedIn();
    const asked = new Map<string, number>();
    page.on("request", (r) => {
      const id = /\/v1\/runs\/([^/]+)\/explain/.exec(r.url())?.[1];
      if (id !== undefined) asked.set(id, (asked.get(id) ?? 0) + 1);
    });
    await page.getByRole("table", { name: "Runs" }).waitFor();
    const ids = Array.from({ length: 6 }, (_, i) => `nap-live-${i}`);
    for (const id of ids) {
      await engine.start(nap, undefined, { id });
      await page.locator(`tr[data-run="${id}"]`, { hasText: "sleep 'long nap'" }).waitFor();
    }
    for (const id of ids) {
      // Once per change of the run (it may be seen waiting before and after its eviction).
      expect(asked.get(id), `${id}: ${JSON.stringify([...asked])}`).toBeGreaterThanOrEqual(1);
      expect(asked.get(id), `${id}: ${JSON.stringify([...asked])}`).toBeLessThanOrEqual(2);
    }
    await page.close();
  });

  it("fits a 390 px wide screen: the list and the inbox", async () => {
    await engine.start(order, { sku: "MUG-2", qty: 3 }, { id: "order-8" });
    const page = await signedIn(admin, 390, "#/runs");
    await page.locator('tr[data-run="order-8"]').waitFor();
    const overflow = () =>
      page.evaluate<number>(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await page.goto(`${served.url}/#/approvals`);
    await page.locator('[data-approval="order-8/ship"]').waitFor();
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await shot(page, "dashboard-phone.png");
    await page.close();
  });
});
