// Proves that the built `endure` command reads a store written with a codec when it is given
// the key ring, with --keys <file> or ENDURE_KEYS: runs show, export (also --replayable) and
// check print the plaintext; without the ring, or with a different key under the same id, the
// command fails with key_not_found naming the key id and never prints the sealed bytes as a
// value; a malformed ring file is invalid_argument naming the file.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { aesGcmCodec, createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, tempDir } from "../helpers.js";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const DIST = pathToFileURL(new URL("../../dist/index.js", import.meta.url).pathname).href;
const SECRET = "Card-4417-secret";
const KEY = Buffer.alloc(32, 0x2c).toString("base64");

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: {
      ...process.env,
      NO_COLOR: "1",
      ENDURE_URL: "",
      ENDURE_STORE: "",
      ENDURE_KEYS: "",
      ...env,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const card = workflow("card", async (ctx, input: { holder: string }) => {
  const record = await ctx.step("lookup", async () => ({ number: `${input.holder}-${SECRET}` }));
  await ctx.waitForSignal("go", { timeout: "1h" });
  return record;
});

describe("the endure command with a key ring", () => {
  it(
    "opens an encrypted store with --keys or ENDURE_KEYS and names the key it lacks",
    { timeout: 300_000 },
    async () => {
      const dir = tempDir();
      const db = join(dir, "enc.db");
      const engine = await createEngine({
        store: sqliteStore(db),
        workflows: [card],
        logger: { warn: () => {} },
        gcSchedule: null,
        codec: aesGcmCodec({ keys: { "ring-2026": KEY }, current: "ring-2026" }),
      });
      try {
        const h = await engine.start(card, { holder: "ada" }, { id: "c-1" });
        await eventually(async () => (await h.info()).status === "waiting");
      } finally {
        await engine.close();
      }
      const ring = join(dir, "keys.json");
      writeFileSync(ring, JSON.stringify({ keys: { "ring-2026": KEY }, current: "ring-2026" }));
      const wrong = join(dir, "wrong.json");
      writeFileSync(
        wrong,
        JSON.stringify({
          keys: { "ring-2026": Buffer.alloc(32, 0x2d).toString("base64") },
          current: "ring-2026",
        }),
      );
      const s = ["--store", db];

      // With the ring, by flag and by environment.
      const shown = cli(["runs", "show", "c-1", ...s, "--keys", ring, "--json"]);
      expect(shown.status, shown.stderr).toBe(0);
      const byEnv = cli(["export", "c-1", ...s], { ENDURE_KEYS: ring });
      expect(byEnv.status, byEnv.stderr).toBe(0);
      expect(byEnv.stdout).toContain(`ada-${SECRET}`);
      const replayable = cli(["export", "c-1", "--replayable", ...s, "--keys", ring]);
      expect(replayable.status, replayable.stderr).toBe(0);
      expect(replayable.stdout).toContain(`ada-${SECRET}`);
      expect(replayable.stdout).not.toContain('"$endure":"sealed"');

      // Without it: key_not_found naming the key id, and no value printed.
      const without = cli(["export", "c-1", ...s]);
      expect(without.status).not.toBe(0);
      expect(without.stderr).toContain("'ring-2026'");
      expect(without.stderr).toContain("[key_not_found]");
      expect(without.stderr).toContain("--keys <file>");
      expect(without.stdout).toBe("");
      const different = cli(["export", "c-1", ...s, "--keys", wrong]);
      expect(different.status).not.toBe(0);
      expect(different.stderr).toContain("'ring-2026'");
      expect(different.stderr).toContain("different key");
      expect(different.stderr).toContain("[key_not_found]");
      expect(different.stdout).toBe("");

      // endure check replays the run in flight through the ring.
      const module = join(dir, "workflows.mjs");
      writeFileSync(
        module,
        `import { workflow } from ${JSON.stringify(DIST)};\n` +
          `export const card = workflow("card", async (ctx, input) => {\n` +
          `  const record = await ctx.step("lookup", async () => ({ number: input.holder }));\n` +
          `  await ctx.waitForSignal("go", { timeout: "1h" });\n` +
          `  return record;\n});\n`,
      );
      const checked = cli(["check", "--workflows", module, ...s, "--keys", ring, "--json"]);
      expect(checked.status, checked.stderr + checked.stdout).toBe(0);
      expect(checked.stdout).toContain("compatible");
      const uncheckable = cli(["check", "--workflows", module, ...s]);
      expect(uncheckable.status).not.toBe(0);
      expect(uncheckable.stderr + uncheckable.stdout).toContain("ring-2026");

      // A ring file that is not a ring.
      const bad = join(dir, "bad.json");
      writeFileSync(bad, JSON.stringify({ keys: { "ring-2026": KEY } }));
      const malformed = cli(["runs", "show", "c-1", ...s, "--keys", bad]);
      expect(malformed.status).not.toBe(0);
      expect(malformed.stderr).toContain(bad);
      expect(malformed.stderr).toContain('"current"');
      expect(malformed.stderr).toContain("[invalid_argument]");
      const missing = cli(["runs", "show", "c-1", ...s], { ENDURE_KEYS: join(dir, "none.json") });
      expect(missing.stderr).toContain("ENDURE_KEYS");
      expect(missing.stderr).toContain("[invalid_argument]");
    },
  );

  it(
    "keys rotate wraps every run key under the current key, so the old key can go",
    { timeout: 300_000 },
    async () => {
      const dir = tempDir();
      const db = join(dir, "rot.db");
      const NEW = Buffer.alloc(32, 0x5e).toString("base64");
      const engine = await createEngine({
        store: sqliteStore(db),
        workflows: [card],
        logger: { warn: () => {} },
        gcSchedule: null,
        codec: aesGcmCodec({ keys: { old: KEY }, current: "old", runKeys: true }),
      });
      try {
        for (const id of ["r-1", "r-2", "r-3"]) {
          const h = await engine.start(card, { holder: id }, { id });
          await eventually(async () => (await h.info()).status === "waiting");
        }
      } finally {
        await engine.close();
      }
      const ring = (keys: Record<string, string>, current: string) => {
        const path = join(dir, `${current}-${Object.keys(keys).join("-")}.json`);
        writeFileSync(path, JSON.stringify({ keys, current, runKeys: true }));
        return path;
      };
      const both = ring({ old: KEY, new: NEW }, "new");
      const newOnly = ring({ new: NEW }, "new");
      const s = ["--store", db];

      // Before the rotation the run keys are wrapped under "old": the new key alone reads nothing.
      const before = cli(["export", "r-2", ...s, "--keys", newOnly]);
      expect(before.status).not.toBe(0);
      expect(before.stderr).toContain("'old'");
      expect(before.stderr).toContain("[key_not_found]");

      const rotated = cli(["keys", "rotate", ...s, "--keys", both, "--json"]);
      expect(rotated.status, rotated.stderr).toBe(0);
      expect(JSON.parse(rotated.stdout)).toEqual({ keys: 3, rewrapped: 3, skipped: 0 });
      const again = cli(["keys", "rotate", ...s, "--keys", both]);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout.trim()).toBe("0 of 3 run keys wrapped again under the current key");

      // Now the old key can leave the ring: every run reads with the new key alone.
      for (const id of ["r-1", "r-2", "r-3"]) {
        const after = cli(["export", id, ...s, "--keys", newOnly]);
        expect(after.status, after.stderr).toBe(0);
        expect(after.stdout).toContain(`${id}-${SECRET}`);
      }

      const noRunKeys = join(dir, "no-run-keys.json");
      writeFileSync(noRunKeys, JSON.stringify({ keys: { old: KEY }, current: "old" }));
      const refused = cli(["keys", "rotate", ...s, "--keys", noRunKeys]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain("runKeys: true");
      expect(refused.stderr).toContain("[invalid_argument]");
    },
  );
});
