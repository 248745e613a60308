// Journals recorded by an earlier version of endure (test/fixtures/journals, made by
// scripts/record-journals.ts) replay with today's code: every entry's data reads back as its
// type promises, and every run asks for what its journal holds and ends as it ended then.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readEntryData } from "../../src/core/entry-data.js";
import { ENTRY_TYPE_SET, type EntryType } from "../../src/core/journal.js";
import { workflow } from "../../src/index.js";
import { parseJournalFile, replayJournal } from "../../src/testing/index.js";
import { all, steps } from "../fixtures/journals/workflows.js";

const dir = new URL("../fixtures/journals/", import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
const load = (file: string) => parseJournalFile(readFileSync(join(dir, file), "utf8"), file);

/** Entry types no recorded journal holds (a crash takeover, a divergence, a saga reaching the
 * journal limit): covered by the encoder tests in test/unit/entry-data.test.ts. */
const NOT_RECORDED: EntryType[] = ["run_recovered", "run_paused", "run_limit_reached"];
const ENTRY_TYPES = Object.keys(ENTRY_TYPE_SET).length;

describe("journals recorded by earlier versions", () => {
  it("are checked in", () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });

  it.each(files)("%s: every entry's data reads as its type says", (file) => {
    for (const entry of load(file).entries)
      expect(() => readEntryData(entry, entry.type)).not.toThrow();
  });

  it("hold every entry type but the ones named", () => {
    const seen = new Set(files.flatMap((f) => load(f).entries.map((e) => e.type)));
    for (const type of NOT_RECORDED) expect(seen.has(type), type).toBe(false);
    expect(seen.size + NOT_RECORDED.length).toBe(ENTRY_TYPES);
  });

  it.each(files)("%s: replays with today's workflows and ends as it ended", async (file) => {
    const journal = load(file);
    const wf = all.find((w) => w.name === journal.run?.workflow);
    expect(wf, `a fixture workflow for ${file}`).toBeDefined();
    const report = await replayJournal(wf!, journal);
    expect(report.divergence).toBeNull();
    expect(report.ok).toBe(true);
    const last = journal.entries[journal.entries.length - 1]!;
    switch (last.type) {
      case "run_completed":
        expect(report.end.kind).toBe("completed");
        if (report.end.kind === "completed")
          expect(report.end.output).toEqual(readEntryData(last, "run_completed").output);
        break;
      case "run_failed": {
        expect(report.end.kind).toBe("failed");
        const recorded = readEntryData(last, "run_failed").error as Error;
        if (report.end.kind === "failed") expect(report.end.error.message).toBe(recorded.message);
        break;
      }
      case "run_cancelled":
        expect(report.end.kind).toBe("cancelled");
        break;
      case "run_timed_out":
        expect(report.end.kind).toBe("timed_out");
        break;
      default:
        throw new Error(`${file} ends with ${last.type}`);
    }
  });

  it("flags a workflow whose code no longer matches (the check can fail)", async () => {
    const changed = workflow(steps.name, async (ctx) => {
      await ctx.step("plan", () => null);
      await ctx.step("flaky-renamed", () => 1);
      return null;
    });
    const report = await replayJournal(changed, load("steps.jsonl"));
    expect(report.ok).toBe(false);
    expect(report.divergence).toMatchObject({
      position: 2,
      recorded: "step 'flaky#1'",
      asked: "step 'flaky-renamed#1'",
    });
    expect(report.divergence?.recordedSite).toMatch(/workflows\.ts:\d+:\d+$/);
    expect(report.divergence?.askedSite).toMatch(/journal-fixtures\.test\.ts:\d+:\d+$/);
  });
});
