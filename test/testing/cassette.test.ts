// Proves cassettes record a real model's replies over HTTP once and replay them with the
// model gone: an agent gives the same answer from the file, `replay` refuses a request it
// has no reply for, and a damaged file is refused with what to do.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "endure";
import { agent, openaiCompatible } from "endure/ai";
import { cassette, createTestEngine } from "endure/testing";
import { startModelServer } from "../fixtures/model-server.js";
import { onCleanup, tempDir } from "../helpers.js";

async function ask(model: ReturnType<typeof cassette>, prompt: string) {
  const helper = agent("helper", { model, system: "Answer briefly." });
  const t = await createTestEngine({ workflows: [helper] });
  onCleanup(() => t.close());
  return (await t.runToEnd(await t.start(helper, { prompt }))).text;
}

describe("cassettes", () => {
  it("records replies once and replays them without the model", async () => {
    const server = await startModelServer(() => ({ text: "Paris." }));
    const path = join(tempDir(), "cassettes", "capital.json");
    const real = openaiCompatible({ baseURL: server.openaiURL, apiKey: "k", model: "m-1" });
    expect(await ask(cassette(real, { path, mode: "auto" }), "Capital of France?")).toBe("Paris.");
    expect(server.calls).toHaveLength(1);
    await server.close();
    expect(await ask(cassette(real, { path, mode: "replay" }), "Capital of France?")).toBe(
      "Paris.",
    );
    await expect(
      ask(cassette(real, { path, mode: "replay" }), "Capital of Spain?"),
    ).rejects.toThrow(/has no reply for this request/);
  });

  it("refuses a damaged cassette and an unknown mode", async () => {
    const path = join(tempDir(), "bad.json");
    writeFileSync(path, "{ not json");
    const real = openaiCompatible({ baseURL: "http://127.0.0.1:9/v1", apiKey: "k", model: "m" });
    await expect(ask(cassette(real, { path, mode: "replay" }), "hi")).rejects.toThrow(
      /is not valid JSON/,
    );
    expect(() => cassette(real, { path, mode: "sometimes" as "auto" })).toThrow(
      InvalidArgumentError,
    );
  });
});
