import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^endure$/, replacement: src("index.ts") },
      { find: /^endure\/sqlite$/, replacement: src("store/sqlite/index.ts") },
      { find: /^endure\/postgres$/, replacement: src("store/postgres/index.ts") },
      { find: /^endure\/testing$/, replacement: src("testing/index.ts") },
      { find: /^endure\/ai$/, replacement: src("ai/index.ts") },
      { find: /^endure\/ai-sdk$/, replacement: src("ai-sdk/index.ts") },
      { find: /^endure\/mcp$/, replacement: src("mcp/index.ts") },
      { find: /^endure\/server$/, replacement: src("server/index.ts") },
      { find: /^endure\/client$/, replacement: src("client/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
  },
});
