// Proves approvals on real SQLite: a decision resumes the run and is journaled with who, when
// and the comment; approvers, roles and 2-of-3 quorums are enforced; a decision is applied
// once; timeouts and an escalation ladder (remind, escalate, resolve) walk through an injected
// clock with each rung journaled and reminders delivered as events another workflow reacts to.
import { describe, expect, it } from "vitest";
import { workflow, type ApprovalResult, type ReceivedEvent } from "endure";
import { createTestClock } from "endure/testing";
import { eventually, sqliteEngine } from "../helpers.js";

type Engine = Awaited<ReturnType<typeof sqliteEngine>>;

const pending = (engine: Engine, runId: string) =>
  eventually(async () => (await engine.approvals({ runId }))[0], 10_000, `approval on ${runId}`);

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: Error & { code: string }) => e.code,
  );

describe("approvals", () => {
  it("pauses until approved, then journals who decided and when", async () => {
    const publish = workflow("publish", async (ctx, input: { draft: string }) => {
      const decision = await ctx.approval("publish", {
        title: "Publish the summary?",
        details: { draft: input.draft },
      });
      return decision.approved ? `published: ${input.draft}` : "kept as draft";
    });
    const engine = await sqliteEngine({ workflows: [publish] });
    const run = await engine.start(publish, { draft: "Q3 notes" });
    const request = await pending(engine, run.id);
    expect(request).toMatchObject({
      workflow: "publish",
      name: "publish",
      title: "Publish the summary?",
      details: { draft: "Q3 notes" },
      quorum: 1,
      decisions: [],
    });
    expect(await engine.approve(run.id, "publish", { by: "ana@acme.io", comment: "ship it" })).toBe(
      "settled",
    );
    expect(await run.result()).toBe("published: Q3 notes");
    const completed = (await engine.journal(run.id)).find((e) => e.type === "wait_completed");
    const result = (completed?.data as { result: ApprovalResult }).result;
    expect(result).toMatchObject({
      approved: true,
      outcome: "approved",
      by: "ana@acme.io",
      comment: "ship it",
    });
    expect(result.at).toBeInstanceOf(Date);
    expect(result.decisions).toHaveLength(1);
    expect(await engine.approvals()).toEqual([]);
  });

  it("rejects with the reviewer's comment, and refuses to decide twice", async () => {
    const wf = workflow("refund", async (ctx) => ctx.approval("refund", { title: "Refund $400?" }));
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await pending(engine, run.id);
    expect(await engine.reject(run.id, "refund", { by: "bo", comment: "outside policy" })).toBe(
      "settled",
    );
    expect(await run.result()).toMatchObject({
      approved: false,
      outcome: "rejected",
      by: "bo",
      comment: "outside policy",
    });
    expect(await errorCode(engine.approve(run.id, "refund", { by: "cy" }))).toBe(
      "approval_decided",
    );
    expect(await errorCode(engine.approve(run.id, "nope", { by: "cy" }))).toBe(
      "approval_not_found",
    );
    expect(await errorCode(engine.approve("no-run", "refund", { by: "cy" }))).toBe("run_not_found");
    expect(await errorCode(engine.approve(run.id, "refund", {} as never))).toBe("invalid_argument");
  });

  it("needs 2 of 3 named approvers, refuses others and the same person twice", async () => {
    const wf = workflow("launch", async (ctx) =>
      ctx.approval("launch", { title: "Launch?", approvers: ["ana", "bo", "cy"], quorum: 2 }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await pending(engine, run.id);
    expect(await errorCode(engine.approve(run.id, "launch", { by: "mallory" }))).toBe(
      "approval_not_allowed",
    );
    expect(await engine.approve(run.id, "launch", { by: "ana" })).toBe("recorded");
    expect(await errorCode(engine.approve(run.id, "launch", { by: "ana" }))).toBe(
      "approval_decided",
    );
    expect((await engine.approvals({ runId: run.id }))[0]?.decisions.map((d) => d.by)).toEqual([
      "ana",
    ]);
    expect(await engine.approve(run.id, "launch", { by: "cy", comment: "ok" })).toBe("settled");
    const result = await run.result();
    expect(result).toMatchObject({ approved: true, outcome: "approved", by: "cy" });
    expect(result.decisions.map((d) => [d.by, d.approved])).toEqual([
      ["ana", true],
      ["cy", true],
    ]);
  });

  it("requires the role the approval names", async () => {
    const wf = workflow("discount", async (ctx) =>
      ctx.approval("discount", { title: "40% off?", role: "sales-lead" }),
    );
    const engine = await sqliteEngine({ workflows: [wf] });
    const run = await engine.start(wf, undefined);
    await pending(engine, run.id);
    expect(await errorCode(engine.approve(run.id, "discount", { by: "dan" }))).toBe(
      "approval_not_allowed",
    );
    expect(await errorCode(engine.approve(run.id, "discount", { by: "dan", role: "intern" }))).toBe(
      "approval_not_allowed",
    );
    expect(await engine.approve(run.id, "discount", { by: "eve", role: "sales-lead" })).toBe(
      "settled",
    );
    expect(await run.result()).toMatchObject({ approved: true, by: "eve" });
  });

  it("times out with a typed outcome when nobody decides", async () => {
    const clock = createTestClock();
    const wf = workflow("ignored", async (ctx) =>
      ctx.approval("ignored", { title: "Anyone?", timeout: "2d" }),
    );
    const engine = await sqliteEngine({ workflows: [wf], clock });
    const run = await engine.start(wf, undefined);
    await pending(engine, run.id);
    await clock.advance("2d");
    expect(await run.result()).toMatchObject({ approved: false, outcome: "timed_out", by: null });
  });

  it("walks an escalation ladder through the injected clock, journaling each rung", async () => {
    const clock = createTestClock();
    const reminders: string[] = [];
    const notifier = workflow(
      "notifier",
      async (ctx, event: ReceivedEvent<{ wait: string; title: string; rung: number }>) => {
        await ctx.step("notify", () =>
          reminders.push(`${event.name}: ${event.data.title} (rung ${event.data.rung})`),
        );
      },
      { on: "endure.wait.reminder" },
    );
    const contract = workflow("contract", async (ctx) =>
      ctx.approval("sign", {
        title: "Sign the vendor contract?",
        approvers: ["legal@acme.io"],
        timeout: "30d",
        policy: [
          { after: "1d", action: "remind" },
          { after: "3d", action: "escalate", to: ["cfo@acme.io"] },
          { after: "7d", action: "resolve", decision: "rejected" },
        ],
      }),
    );
    const engine = await sqliteEngine({
      workflows: [contract, notifier],
      clock,
      worker: { pollInterval: 10 },
    });
    const run = await engine.start(contract, undefined);
    expect((await pending(engine, run.id)).escalatedTo).toEqual([]);
    const rungs = async () =>
      (await engine.journal(run.id)).filter(
        (e) => e.type.startsWith("wait_") && e.type !== "wait_started",
      );
    await clock.advance("1d");
    await eventually(
      async () => (await rungs()).length === 1 && reminders.length === 1,
      10_000,
      "the reminder",
    );
    expect(reminders).toEqual(["endure.wait.reminder: Sign the vendor contract? (rung 1)"]);
    expect(await errorCode(engine.approve(run.id, "sign", { by: "cfo@acme.io" }))).toBe(
      "approval_not_allowed",
    );
    await clock.advance("2d");
    await eventually(async () => (await rungs()).length === 2, 10_000, "the escalation");
    expect((await engine.approvals({ runId: run.id }))[0]).toMatchObject({
      approvers: ["legal@acme.io", "cfo@acme.io"],
      escalatedTo: ["cfo@acme.io"],
    });
    await clock.advance("4d");
    const result = await run.result();
    expect(result).toMatchObject({ approved: false, outcome: "resolved", by: null });
    const journal = await rungs();
    expect(journal.map((e) => e.type)).toEqual([
      "wait_reminded",
      "wait_escalated",
      "wait_completed",
    ]);
    expect(journal.map((e) => e.at.getTime() - journal[0]!.at.getTime())).toEqual([
      0,
      2 * 86_400_000,
      6 * 86_400_000,
    ]);
    expect(journal[1]?.data).toMatchObject({ rung: 2, to: ["cfo@acme.io"] });
  });
});
