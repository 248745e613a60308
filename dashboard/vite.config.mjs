// Builds the dashboard into dist/dashboard, where the server serves it at `/`. Everything it
// needs is bundled (no fonts, scripts or images from elsewhere), and paths are relative so
// the page works wherever the server mounts it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** @param {string} path */
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "./",
  resolve: {
    alias: [{ find: /^endure\/client$/, replacement: here("../src/client/index.ts") }],
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: here("../dist/dashboard"),
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
