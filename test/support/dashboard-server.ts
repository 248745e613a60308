// The server the browser tests drive: an engine on a real SQLite file in a temporary
// directory, the real endure server on a free loopback port, serving the built dashboard.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine, type Engine, type Workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { createServer, dashboardDir, type Token } from "endure/server";

export const TOKENS: Token[] = [
  { name: "ada@example.com", token: "admin-token-0123456789", role: "admin" },
  { name: "vic@example.com", token: "viewer-token-0123456789", role: "viewer" },
];

export interface DashboardServer {
  readonly engine: Engine;
  readonly url: string;
  /** Polls `check` every 20 ms until it holds, or fails after `ms`. */
  eventually(check: () => Promise<boolean>, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens an engine over `workflows` and a server with the dashboard; close both with close(). */
export async function openDashboardServer(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  workflows: Workflow<any, any>[],
): Promise<DashboardServer> {
  const staticDir = dashboardDir();
  if (staticDir === null) throw new Error("the dashboard is not built: run npm run build first");
  const dir = mkdtempSync(join(tmpdir(), "endure-dashboard-"));
  const engine = await createEngine({
    store: sqliteStore(join(dir, "endure.db"), { durability: "process" }),
    workflows,
    logger: { warn: () => {} },
    gcSchedule: null,
  });
  const server = createServer({
    engine,
    tokens: TOKENS,
    staticDir,
    onError: () => {},
  });
  const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
  return {
    engine,
    url,
    async eventually(check, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`not true after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await server.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
