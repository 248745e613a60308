// Proves the `endure` command as operators use it, with real processes and a real
// PostgreSQL database: `endure migrate` brings a schema up to date; `endure worker` runs a
// workflows module, answers its health endpoint, and on SIGTERM stops claiming, lets running
// steps finish within the grace and hands the rest back, so another worker completes them;
// a bad module or an unreachable store exits with a clear typed error.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { eventually } from "../helpers.js";
import { admin, freshDatabase, postgresEngine } from "../support/postgres.js";
import { spawnNode } from "../support/processes.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const WORKFLOWS = new URL("../fixtures/cli-workflows.mjs", import.meta.url).pathname;
const NO_WORKFLOWS = new URL("../../dist/core/limits.js", import.meta.url).pathname;

const stubs = [workflow("greet", async () => null), workflow("slow", async () => null)];

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
}

describe("the endure command", () => {
  it("migrates a database once and reports its schema version", async () => {
    const url = await freshDatabase();
    const first = cli(["migrate", "--store", url]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/schema version \d+ \(was 0\)/);
    const second = cli(["migrate", "--store", url]);
    expect(second.stdout).toMatch(/schema version (\d+) \(was \1\)/);
  });

  it("runs a worker with a health endpoint and stops gracefully on SIGTERM", async () => {
    const url = await freshDatabase();
    const worker = spawnNode(CLI, [
      "worker",
      "--store",
      url,
      "--workflows",
      WORKFLOWS,
      "--worker-id",
      "cli-1",
      "--health-port",
      "0",
      "--close-grace",
      "500ms",
    ]);
    const healthLine = await worker.waitFor(/^health on /);
    expect(worker.lines[0]).toContain("worker cli-1 started");
    expect(worker.lines[0]).toContain("greet, slow");
    const healthUrl = healthLine.slice("health on ".length);
    const health = await fetch(healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, workerId: "cli-1" });
    expect((await fetch(healthUrl.replace("/healthz", "/other"))).status).toBe(404);
    const client = await postgresEngine({ url, workflows: stubs, worker: false });
    const greeting = await client.start("greet", { name: "ada" });
    expect(await greeting.result()).toBe("hello ada");
    const slow = await client.start("slow", { ms: 20_000 }, { id: "interrupted" });
    // The first step is committed before the long one's body starts (write-ahead).
    await eventually(
      async () =>
        (await client.journal(slow.id)).some(
          (e) => e.key === "first#1" && e.type === "step_succeeded",
        ),
      10_000,
      "the first step to commit",
    );
    await new Promise((r) => setTimeout(r, 200));
    worker.process.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(worker.lines.some((l) => l.startsWith("SIGTERM: no new runs"))).toBe(true);
    expect(worker.lines.at(-1)).toBe("worker stopped");
    const handedBack = await client.getRun(slow.id);
    expect(handedBack?.status).toBe("pending");
    const next = spawnNode(CLI, [
      "worker",
      "--store",
      url,
      "--workflows",
      WORKFLOWS,
      "--worker-id",
      "cli-2",
      "--close-grace",
      "500ms",
    ]);
    await next.waitFor(/started/);
    // The handed-back run is taken at once by the next worker, not after a lease.
    const started = Date.now();
    await eventually(
      async () => {
        const owner = await admin(
          (c) =>
            c.query<{ owner: string }>("SELECT owner FROM endure.runs WHERE id = $1", [slow.id]),
          url,
        );
        return owner.rows[0]?.owner === "cli-2";
      },
      10_000,
      "the next worker to take the run",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    next.process.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  });

  it("exits with a clear error for an unreachable store or a module without workflows", () => {
    const unreachable = cli([
      "worker",
      "--store",
      "postgres://x@127.0.0.1:1/db",
      "--workflows",
      WORKFLOWS,
    ]);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach the endure store");
    expect(unreachable.stderr).toContain("[store_unavailable]");
    const empty = cli([
      "worker",
      "--store",
      "postgres://x@127.0.0.1:1/db",
      "--workflows",
      NO_WORKFLOWS,
    ]);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain("exports no workflows");
    expect(empty.stderr).toContain("[invalid_argument]");
    const missing = cli(["worker", "--workflows", WORKFLOWS]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("--store");
  });
});
