// `endure events send` and `endure signal`: messages to runs from outside.
import { Command } from "commander";
import { act, connected } from "./command-kit.js";
import { jsonArgument } from "./input-arg.js";
import { printJson, type Output } from "./output.js";

/** The `events` command group. */
export function eventsCommand(out: Output): Command {
  const events = new Command("events").description("send events to the runs waiting for them");
  connected(events.command("send").description("send an event (stored once per id)"))
    .argument("<name>", "the event's name, such as lead.created")
    .option("--data <json>", "the event's data: JSON, or @file")
    .option("--id <id>", "idempotency key: the same id is delivered once")
    .action(
      act<{ data?: string; id?: string }>(out, async (b, p, [name], f) => {
        const sent = await b.sendEvent({
          name: name as string,
          data: jsonArgument(f.data, "--data"),
          ...(f.id !== undefined ? { id: f.id } : {}),
        });
        if (p.json) return printJson(p, sent);
        p.out.log(
          sent.created
            ? `sent event ${sent.id}: woke ${sent.woke} run${sent.woke === 1 ? "" : "s"}`
            : `event ${sent.id} was sent before: nothing delivered again`,
        );
      }),
    );
  return events;
}

/** The `signal` command. */
export function signalCommand(out: Output): Command {
  return connected(new Command("signal").description("send a signal to one run"))
    .argument("<run>", "the run's id")
    .argument("<name>", "the signal's name")
    .option("--data <json>", "the signal's data: JSON, or @file")
    .action(
      act<{ data?: string }>(out, async (b, p, [run, name], f) => {
        await b.signal(run as string, name as string, jsonArgument(f.data, "--data"));
        if (p.json) return printJson(p, { runId: run, name, sent: true });
        p.out.log(`sent signal '${name}' to run ${run}`);
      }),
    );
}
