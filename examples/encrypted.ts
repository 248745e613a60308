// npx tsx examples/encrypted.ts: a journal encrypted at rest. Every payload the store holds
// (the input, each step's result, the output) is sealed with AES-256-GCM under the current key
// of a key ring; the SQLite file holds no plaintext of the patient's record. After a rotation
// (a new current key, the old one kept), the old run still reads back. With hashChain, each
// journal entry carries a hash chained to the one before it, and engine.verify checks them.
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

  const codec = aesGcmCodec({ keys: { "2026-01": january }, current: "2026-01" });
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

  // Rotation: new payloads are sealed with the February key; January's stay readable.
  const rotated = aesGcmCodec({
    keys: { "2026-01": january, "2026-02": february },
    current: "2026-02",
  });
  const after = await createEngine({
    store: sqliteStore(path),
    workflows: [intake],
    codec: rotated,
  });
  const again = await after.handle<{ summary: string }>("p-1").result();
  log(`after rotation: ${again.summary}`);
  const report = await after.verify("p-1");
  log(`journal verified: ${report.ok ? "all" : "not all"} ${report.entries} entries in order`);
  await after.close();
  return again;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
