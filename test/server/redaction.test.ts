// Redaction: the fields named by the engine's `redact` option never appear in what the HTTP
// API answers (JSON bodies, the live Server-Sent Events of a run's output stream), and the
// engine's logs carry no payloads, while the journal keeps them and the workflow code sees them. Real HTTP on a
// real SQLite file, real pino lines.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { REDACTED, createEngine, limits, workflow, type Engine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { eventually, onCleanup, tempDir } from "../helpers.js";
import { serve } from "./support.js";

const SSN = "078-05-1120";
const CARD = "4111-1111-1111-1111";

class LookupError extends Error {
  constructor(readonly ssn: string) {
    super("the bureau did not answer");
    this.name = "LookupError";
  }
}

let lookups = 0;
const applicant = workflow("applicant", async (ctx, input: { name: string; ssn: string }) => {
  const report = await ctx.step(
    "credit report",
    () => {
      if (lookups++ === 0) throw new LookupError(input.ssn);
      return { score: 780, card: { number: CARD, brand: "visa" }, seen: input.ssn === SSN };
    },
    { retries: 1, backoff: { initial: "1ms" } },
  );
  ctx.emit({ type: "data-report", data: { applicant: input.name, ssn: input.ssn } });
  await ctx.waitForSignal("decision", { timeout: "1h" });
  return { name: input.name, ssn: input.ssn, approved: report.score > 700 };
});

function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l.trim() !== ""),
      );
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

describe("redacted fields", () => {
  it("are masked in API responses, live streams and logs; the journal keeps them", async () => {
    lookups = 0;
    const { logger, lines } = memoryLogger();
    const s = await serve({
      workflows: [applicant],
      logger,
      redact: { fields: ["ssn", "card.number"] },
    });
    const { run } = await s.operator.start("applicant", { name: "Ada", ssn: SSN }, { id: "a-1" });

    // Live: the output stream read as Server-Sent Events while the run goes.
    const live = await fetch(`${s.url}/v1/runs/${run.id}/stream`, {
      headers: {
        accept: "text/event-stream",
        authorization: "Bearer viewer-token-0123456789",
      },
    });
    expect(live.status).toBe(200);
    const reader = live.body!.pipeThrough(new TextDecoderStream()).getReader();
    let sse = "";
    while (!sse.includes("data-report")) {
      const { value, done } = await reader.read();
      if (done) break;
      sse += value;
    }
    await reader.cancel();
    expect(sse).toContain('"applicant":"Ada"');
    expect(sse).toContain(`"ssn":"${REDACTED}"`);
    expect(sse).not.toContain(SSN);

    await eventually(async () => (await s.viewer.getRun(run.id)).status !== "running");
    const shown = await s.viewer.getRun(run.id);
    expect(shown.input).toEqual({ name: "Ada", ssn: REDACTED });
    const journal = JSON.stringify(await s.viewer.journal(run.id));
    expect(journal).toContain('"brand":"visa"');
    expect(journal).toContain('"score":780');
    expect(journal).not.toContain(SSN);
    expect(journal).not.toContain(CARD);
    expect((await s.viewer.readStream(run.id)).parts.map((p) => p.part["data"])).toEqual([
      { applicant: "Ada", ssn: REDACTED },
    ]);

    await s.operator.signal(run.id, "decision", { ok: true });
    await eventually(async () => (await s.viewer.getRun(run.id)).status === "completed");
    expect((await s.admin.getRun(run.id)).output).toEqual({
      name: "Ada",
      ssn: REDACTED,
      approved: true,
    });
    const raw = await fetch(`${s.url}/v1/runs?workflow=applicant`, {
      headers: { authorization: "Bearer viewer-token-0123456789" },
    });
    expect(await raw.text()).not.toContain(SSN);

    // The engine itself reads what was journaled: the step saw the real number.
    const inside = await s.engine.getRun(run.id);
    expect(inside?.input).toEqual({ name: "Ada", ssn: SSN });
    expect((await s.engine.journal(run.id)).map((e) => JSON.stringify(e.data)).join()).toContain(
      CARD,
    );

    // Logs carry no payloads: the failed attempt is named, its error's fields are not logged.
    const failed = lines.find((l) => l.includes("step attempt failed"));
    expect(failed).toContain("LookupError");
    expect(lines.join("\n")).not.toContain(SSN);
    expect(lines.join("\n")).not.toContain(CARD);
  });

  it("are shown as they are without the option (the checks above can fail)", async () => {
    lookups = 0;
    const s = await serve({ workflows: [applicant] });
    const { run } = await s.operator.start("applicant", { name: "Ada", ssn: SSN }, { id: "a-2" });
    expect((await s.viewer.getRun(run.id)).input).toEqual({ name: "Ada", ssn: SSN });
    await eventually(async () => JSON.stringify(await s.viewer.journal(run.id)).includes(CARD));
  });

  it("match names and dotted paths at any depth, with wildcards, and refuse bad rules", async () => {
    const engine: Engine = await createEngine({
      store: sqliteStore(`${tempDir()}/r.db`),
      workflows: [],
      logger: { warn: () => {} },
      gcSchedule: null,
      redact: { fields: ["ssn", "card.number", "secrets.*"], censor: "***" },
    });
    onCleanup(() => engine.close());
    const value = {
      ssn: 1,
      people: [{ ssn: 2, card: { number: 3, cvc: 4 } }],
      number: 5,
      secrets: { a: 6, b: { c: 7 } },
      nested: { secrets: { d: 8 } },
    };
    expect(engine.redact(value)).toEqual({
      ssn: "***",
      people: [{ ssn: "***", card: { number: "***", cvc: 4 } }],
      number: 5,
      secrets: { a: "***", b: "***" },
      nested: { secrets: { d: "***" } },
    });
    expect(value.people[0]?.ssn).toBe(2);
    const open = (fields: unknown) =>
      createEngine({
        store: sqliteStore(`${tempDir()}/bad.db`),
        workflows: [],
        gcSchedule: null,
        redact: { fields } as never,
      });
    await expect(open(["a..b"])).rejects.toThrow(
      'redact field "a..b" must be a field name or a dotted path of names',
    );
    await expect(open("ssn")).rejects.toThrow("redact must be { fields:");
    const many = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`);
    const most = await open(many(limits.REDACT_FIELDS_MAX));
    await most.close();
    await expect(open(many(limits.REDACT_FIELDS_MAX + 1))).rejects.toThrow(
      `more than REDACT_FIELDS_MAX (${limits.REDACT_FIELDS_MAX})`,
    );
  });
});
