// Where the built dashboard is: dist/dashboard beside the compiled server (the npm package),
// or the build output of a source checkout.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The directory of the built dashboard, for `createServer({ staticDir })`; null when it was
 * not built (run `npm run build` in a source checkout).
 *
 * @example
 * ```ts
 * const server = createServer({ engine, tokens, staticDir: dashboardDir() ?? undefined });
 * ```
 */
export function dashboardDir(): string | null {
  for (const relative of ["../dashboard/", "../../dist/dashboard/"]) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}
