// Proves exploreCrashes, the crash exploration users run on their own workflows: it passes a
// deterministic workflow after recovering from every journal prefix, and names the first
// recovery of a workflow that reads the wall clock outside ctx.
import { describe, expect, it } from "vitest";
import { workflow } from "endure";
import { exploreCrashes } from "endure/testing";

describe("exploreCrashes", () => {
  it("recovers a deterministic workflow from every point of its journal", async () => {
    const calls: string[] = [];
    const onboard = workflow("onboard", async (ctx, input: { email: string }) => {
      const account = await ctx.step("create account", () => {
        calls.push("create");
        return { id: `acct-${input.email}` };
      });
      await ctx.sleep("grace", "3d");
      const [a, b] = await Promise.all([
        ctx.step("welcome", () => "sent"),
        ctx.step("crm", () => "synced"),
      ]);
      const reply = await ctx.waitForEvent("reply", { event: "email.replied", timeout: "7d" });
      const ok = await ctx.approval("upgrade", { title: "Upgrade?" });
      return {
        account: account.id,
        a,
        b,
        reply: reply?.data ?? null,
        upgraded: ok.approved,
        id: ctx.uuid(),
      };
    });
    const report = await exploreCrashes(
      onboard,
      { email: "ada@x.io" },
      {
        answer: (wait) => (wait.kind === "approval" ? true : { text: "hi" }),
      },
    );
    expect(report.outcome).toBe("completed");
    expect(report.output).toMatchObject({
      account: "acct-ada@x.io",
      a: "sent",
      b: "synced",
      reply: { text: "hi" },
      upgraded: true,
    });
    expect(report.recoveries).toBe(report.journalLength - 1);
    expect(report.recoveries).toBeGreaterThan(10);
    expect(calls.length).toBeGreaterThan(1);
  });

  it("names the first crash after which a non-deterministic workflow ends differently", async () => {
    let flip = 0;
    const flaky = workflow("flaky", async (ctx) => {
      await ctx.step("one", () => 1);
      // Reading state outside ctx between steps: a replay takes the other branch.
      if (flip++ % 2 === 0) await ctx.step("two", () => 2);
      return "done";
    });
    await expect(exploreCrashes(flaky, undefined)).rejects.toThrow(
      /a crash after entry \d+ of \d+ .* changes the outcome: the uninterrupted run completed with "done", the recovered one paused: run explored-run diverged/,
    );
  });
});
