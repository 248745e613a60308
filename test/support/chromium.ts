// Debian's Chromium for the browser tests, driven by playwright-core (which downloads no
// browser of its own). When it is missing, the set-up installs it with apt-get when running
// as root, and otherwise fails naming the command that installs it: never a silent skip.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
];
/** How long installing Chromium with apt-get may take (download and unpack). */
export const CHROMIUM_INSTALL_MS_MAX = 10 * 60_000;
const INSTALL_COMMAND = "apt-get update && apt-get install -y chromium";

/** Makes sure /usr/bin/chromium exists, installing it when this process may. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `The browser tests need Debian's Chromium at ${CHROMIUM_PATH}; install it with: sudo sh -c '${INSTALL_COMMAND}'`,
    );
  }
  const options = {
    stdio: "inherit" as const,
    timeout: CHROMIUM_INSTALL_MS_MAX,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  };
  execFileSync("apt-get", ["update"], options);
  execFileSync("apt-get", ["install", "-y", "chromium"], options);
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
}

/** Starts a headless Chromium (close it with `browser.close()`). */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}
