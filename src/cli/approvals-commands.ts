// `endure approvals ls|approve|reject`: the decisions people make on waiting runs.
import { Command } from "commander";
import { act, connected } from "./command-kit.js";
import { ago, printJson, printTable, type Output } from "./output.js";

/** The `approvals` command group. */
export function approvalsCommand(out: Output): Command {
  const approvals = new Command("approvals").description("list open approvals and decide them");
  connected(approvals.command("ls").description("open approvals, oldest first"))
    .option("--run <id>", "only the approvals of this run")
    .action(
      act<{ run?: string }>(out, async (b, p, _args, f) => {
        const list = await b.approvals(f.run === undefined ? {} : { runId: f.run });
        if (p.json) return printJson(p, list);
        printTable(
          p,
          ["RUN", "APPROVAL", "TITLE", "APPROVERS", "DECIDED", "REQUESTED", "TIMES OUT"],
          list.map((a) => [
            a.runId,
            a.name,
            a.title,
            a.approvers.length === 0 ? "anyone" : a.approvers.join(","),
            `${a.decisions.filter((d) => d.approved).length}/${a.quorum}`,
            ago(a.requestedAt),
            new Date(a.timesOutAt).toISOString(),
          ]),
        );
      }),
    );
  for (const [verb, approved] of [
    ["approve", true],
    ["reject", false],
  ] as const) {
    connected(
      approvals
        .command(verb)
        .description(`${verb} a run's open approval (through a server, the token's name decides)`),
    )
      .argument("<run>", "the run's id")
      .argument("<approval>", "the approval's name")
      .option("--comment <text>", "kept with the decision")
      .option("--by <name>", "who decides, on a store opened directly (default: the OS user)")
      .action(
        act<{ comment?: string; by?: string }>(out, async (b, p, [run, name], f) => {
          const result = await b.decide(run as string, name as string, approved, {
            ...(f.comment !== undefined ? { comment: f.comment } : {}),
            ...(f.by !== undefined ? { by: f.by } : {}),
          });
          if (p.json) return printJson(p, result);
          p.out.log(
            `${approved ? "approved" : "rejected"} '${name}' of run ${run}: ${result.outcome === "settled" ? "decided, the run goes on" : "recorded, more approvals are needed"}`,
          );
        }),
      );
  }
  return approvals;
}
