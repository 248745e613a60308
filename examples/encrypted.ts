// npx tsx examples/encrypted.ts: a journal encrypted at rest. Every payload the store holds
// (the input, each step's result, the output) is sealed with AES-256-GCM under the current key
// of a key ring (here, under a data key of the run's own, itself sealed by the ring: runKeys);
// the SQLite file holds no plaintext of the patient's record. A rotation makes a new key
// current and rewraps the run keys under it (engine.rotateKeys, or `endure keys rotate`), after
// which the old key can leave the ring. With hashChain, each journal entry carries a hash
// chained to the one before it, and engine.verify checks them.
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { aesGcmCodec, createEngine, workflow } from "endure";
import { sqliteStore } from "endure/sqlite";

export const intake = workflow("intake", async (ctx, patient: { name: string; mrn: string }) => {
  const chart = await ctx.step("fetch chart", async () => ({
    mrn: patient.mrn,
    allergies: ["penicillin"],
  }));
  return { summary: `${patient.name}: allergic to ${chart.allergies.join(", ")}` };
});

export async function main(
  options: { path?: string; log?: (line: string) => void } = {},
): Promise<{ summary: string }> {
  const log = options.log ?? console.log;
  const path = options.path ?? join(mkdtempSync(join(tmpdir(), "endure-encrypted-")), "e.db");
  // In production, keys come from a secret manager or the environment (base64 or hex).
  const january = randomBytes(32).toString("base64");
  const february = randomBytes(32).toString("base64");

  const codec = aesGcmCodec({ keys: { "2026-01": january }, current: "2026-01", runKeys: true });
  const engine = await createEngine({
    store: sqliteStore(path),
    workflows: [intake],
    codec,
    hashChain: true,
  });
  const run = await engine.start(intake, { name: "Grace Hopper", mrn: "MRN-1906" }, { id: "p-1" });
  log(`result: ${(await run.result()).summary}`);
  await engine.close();
  const raw = readFileSync(path).toString("latin1");
  log(`plaintext in the file: ${raw.includes("Grace Hopper") || raw.includes("penicillin")}`);

  // Rotation: February's key becomes current, and every run key is wrapped again under it.
  const both = aesGcmCodec({
    keys: { "2026-01": january, "2026-02": february },
    current: "2026-02",
    runKeys: true,
  });
  const rotating = await createEngine({
    store: sqliteStore(path),
    workflows: [intake],
    codec: both,
  });
  const { rewrapped } = await rotating.rotateKeys();
  log(`run keys wrapped again under 2026-02: ${rewrapped}`);
  await rotating.close();

  // January's key has left the ring; the run still reads back, and its hash chain holds.
  const februaryOnly = aesGcmCodec({
    keys: { "2026-02": february },
    current: "2026-02",
    runKeys: true,
  });
  const after = await createEngine({
    store: sqliteStore(path),
    workflows: [intake],
    codec: februaryOnly,
  });
  const again = await after.handle<{ summary: string }>("p-1").result();
  log(`after rotation, without the old key: ${again.summary}`);
  const report = await after.verify("p-1");
  log(`journal verified: ${report.ok ? "all" : "not all"} ${report.entries} entries in order`);
  await after.close();
  return again;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
