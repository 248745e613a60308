// The audit export: `endure export --since` writes every run active in a range with its whole
// journal as stored (sealed payloads, chain hashes) and who started, decided, cancelled and
// retried it, as the HTTP API's callers and the engine's callers named themselves;
// `endure verify --file` checks the file from itself alone and reports an edited line. Real
// HTTP, a real encrypted and chained SQLite file, the built command in its own process.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { aesGcmCodec, workflow } from "endure";
import { eventually, tempDir } from "../helpers.js";
import { serve } from "../server/support.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const KEY = Buffer.alloc(32, 0x4d).toString("base64");
const SECRET = "IBAN-DE44-5001-0517-5407-3249-31";

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", ENDURE_URL: "", ENDURE_STORE: "", ENDURE_KEYS: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let failOnce = true;
const payout = workflow("payout", async (ctx, input: { iban: string; cents: number }) => {
  await ctx.step("check", () => input.iban.length);
  const decision = await ctx.approval("release", { title: "Release the payout", timeout: "1d" });
  if (!decision.approved) return "held";
  return ctx.step(
    "pay",
    () => {
      if (failOnce) {
        failOnce = false;
        throw new Error("the bank is down");
      }
      return `paid ${input.cents}`;
    },
    { retries: 0 },
  );
});

type Line = Record<string, unknown> & { run?: { id: string }; runId?: string };

describe("the audit export", () => {
  it("names who started, decided, cancelled and retried each run; verify --file checks it", async () => {
    const path = join(tempDir(), "audit.db");
    const since = new Date(Date.now() - 1000).toISOString();
    const codec = aesGcmCodec({ keys: { k1: KEY }, current: "k1" });
    const s = await serve({ path, workflows: [payout], codec, hashChain: true });
    const input = { iban: SECRET, cents: 1200 };
    const { run: paid } = await s.operator.start("payout", input, { id: "pay-1" });
    const { run: held } = await s.operator.start("payout", input, { id: "pay-2" });
    for (const id of [paid.id, held.id])
      await eventually(async () => (await s.approver.approvals({ runId: id })).length === 1);
    await s.approver.approve(paid.id, "release", { comment: "ok" });
    await eventually(async () => (await s.viewer.getRun(paid.id)).status === "failed");
    await s.engine.retry(paid.id, { by: "ops-oncall" });
    await eventually(async () => (await s.viewer.getRun(paid.id)).status === "completed");
    await s.operator.cancel(held.id, "customer withdrew");
    await eventually(async () => (await s.viewer.getRun(held.id)).status === "cancelled");

    const ring = join(tempDir(), "ring.json");
    writeFileSync(ring, JSON.stringify({ keys: { k1: KEY }, current: "k1" }));
    const exported = cli(["export", "--since", since, "--store", path, "--keys", ring]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/exported 2 runs, \d+ entries/);
    expect(exported.stdout).not.toContain(SECRET);
    const lines = exported.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    expect(lines.filter((l) => l.run !== undefined).map((l) => l.run?.id)).toEqual([
      "pay-1",
      "pay-2",
    ]);
    const actors = (id: string) =>
      lines
        .filter((l) => l.runId === id && l.by !== undefined)
        .map((l) => `${String(l.type)} ${String(l.by)}`);
    expect(actors("pay-1")).toEqual([
      "run_started otto@example.com",
      "wait_completed maria@example.com",
      "run_retried ops-oncall",
    ]);
    expect(actors("pay-2")).toEqual([
      "run_started otto@example.com",
      "run_cancel_requested otto@example.com",
    ]);
    // Each entry as stored: its chain hash, its payload sealed.
    const step = lines.find((l) => l.runId === "pay-1" && l.type === "step_succeeded");
    expect(String(step?.data)).toMatch(
      /^\{"\$endure":"chain","h":"[\w-]{43}","d":\{"\$endure":"sealed"/,
    );

    // Without the ring the export still works; sealed entries then name nobody.
    const sealed = cli(["export", "--since", since, "--store", path]);
    expect(sealed.status, sealed.stderr).toBe(0);
    expect(sealed.stdout).not.toContain('"by"');

    const file = join(tempDir(), "audit.jsonl");
    writeFileSync(file, exported.stdout);
    const verified = cli(["verify", "--file", file, "--json"]);
    expect(verified.status, verified.stderr).toBe(0);
    const reports = JSON.parse(verified.stdout) as Array<{ runId: string; ok: boolean }>;
    expect(reports.map((r) => `${r.runId} ${r.ok}`)).toEqual(["pay-1 true", "pay-2 true"]);

    // One entry's time moved in the file: that entry is reported, the other run passes.
    const edited = readFileSync(file, "utf8")
      .split("\n")
      .map((l) => {
        if (!l.includes('"runId":"pay-1"') || !l.includes('"type":"wait_completed"')) return l;
        const e = JSON.parse(l) as { at: number };
        return JSON.stringify({ ...e, at: e.at + 60_000 });
      })
      .join("\n");
    writeFileSync(file, edited);
    const tampered = cli(["verify", "--file", file]);
    expect(tampered.status).toBe(7);
    expect(tampered.stderr).toContain("run pay-1: 1 of");
    expect(tampered.stderr).toContain(
      "(wait_completed release#1) does not follow the entry before it",
    );
    expect(tampered.stdout).toContain("run pay-2:");

    const none = cli([
      "export",
      "--since",
      new Date(Date.now() + 60_000).toISOString(),
      "--store",
      path,
    ]);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("exported 0 runs, 0 entries");
    const bad = cli(["export", "--since", "last tuesday", "--store", path]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--since must be an ISO time");
    const both = cli(["export", "pay-1", "--since", since, "--store", path]);
    expect(both.stderr).toContain("a run id or --since, not both");
  });
});
