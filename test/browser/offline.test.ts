// Proves the built dashboard stands on its own in Debian's Chromium: its page and assets are
// all it loads (no font, script or image from any other address), the sign-in screen is
// labelled and reachable by keyboard, the theme switches, and a 390 px screen shows it
// without sideways scrolling.
import { readFileSync, existsSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_INSTALL_MS_MAX, launchChromium } from "../support/chromium.js";

const built = new URL("../../dist/dashboard/", import.meta.url).pathname;
const ORIGIN = "http://dashboard.test";
const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
};

/** How far the page is wider than the screen, in pixels (0 when it fits). */
const OVERFLOW_PX = "document.documentElement.scrollWidth - document.documentElement.clientWidth";

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(built, "index.html")))
    throw new Error(`${built}index.html is missing: run npm run build first`);
  browser = await launchChromium();
}, CHROMIUM_INSTALL_MS_MAX);

afterAll(async () => {
  await browser?.close();
});

/** A page that gets the built files for ORIGIN and refuses (and records) everything else. */
async function openBuilt(width = 1280): Promise<{ page: Page; foreign: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  const foreign: string[] = [];
  await page.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== ORIGIN) {
      foreign.push(url.href);
      return route.abort();
    }
    const path = normalize(join(built, url.pathname === "/" ? "index.html" : url.pathname));
    if (!path.startsWith(built) || !existsSync(path)) return route.fulfill({ status: 404 });
    return route.fulfill({
      body: readFileSync(path),
      contentType: TYPES[extname(path)] ?? "application/octet-stream",
    });
  });
  await page.goto(`${ORIGIN}/`);
  return { page, foreign };
}

describe("the built dashboard", () => {
  it("loads nothing from outside its own origin and shows a labelled sign-in form", async () => {
    const { page, foreign } = await openBuilt();
    const field = page.getByLabel("Token");
    await field.waitFor();
    await expect(field.getAttribute("type")).resolves.toBe("password");
    await expect(page.getByRole("heading", { name: "Sign in to endure" }).count()).resolves.toBe(1);
    // The field has the focus; Tab reaches the button.
    await page.keyboard.press("Tab");
    await expect(page.evaluate("document.activeElement?.textContent?.trim()")).resolves.toBe(
      "Sign in",
    );
    expect(foreign).toEqual([]);
    await page.close();
  });

  it("says what is missing when the form is sent empty", async () => {
    const { page } = await openBuilt();
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toContain("Enter the token");
    await page.close();
  });

  it("switches between the light and the dark theme", async () => {
    const { page } = await openBuilt();
    const theme = () => page.evaluate("document.documentElement.dataset.theme");
    const before = await theme();
    await page.getByRole("button", { name: /Switch to the (dark|light) theme/ }).click();
    const after = await theme();
    expect([before, after].sort()).toEqual(["dark", "light"]);
    await page.close();
  });

  it("fits a 390 px wide screen", async () => {
    const { page } = await openBuilt(390);
    await page.getByLabel("Token").waitFor();
    const overflow = await page.evaluate(OVERFLOW_PX);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });
});
