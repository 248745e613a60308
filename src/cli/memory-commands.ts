// `endure query`, `endure update` and `endure memory`: asking runs about their state, handing
// them corrections, and reading and writing durable memory.
import { Command } from "commander";
import { InvalidArgumentError } from "../core/errors.js";
import { act, connected } from "./command-kit.js";
import { jsonArgument } from "./input-arg.js";
import { printJson, type Output } from "./output.js";

const text = (value: unknown): string => JSON.stringify(value);

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`--limit must be a whole number of at least 1, got ${value}`);
  return n;
}

/** The `query` command. */
export function queryCommand(out: Output): Command {
  return connected(new Command("query").description("ask a run a query (ctx.onQuery)"))
    .argument("<run>", "the run's id")
    .argument("<name>", "the query's name")
    .option("--args <json>", "the query's arguments: JSON, or @file")
    .option(
      "--workflows <module>",
      "with --store: the module defining the run's workflow, to replay a run not in memory",
    )
    .action(
      act<{ args?: string }>(out, async (b, p, [run, name], f) => {
        const result = await b.query(run as string, name as string, jsonArgument(f.args, "--args"));
        if (p.json) return printJson(p, { runId: run, name, result });
        p.out.log(text(result));
      }),
    );
}

/** The `update` command. */
export function updateCommand(out: Output): Command {
  return connected(
    new Command("update").description("send a run an update (ctx.onUpdate) and print its result"),
  )
    .argument("<run>", "the run's id")
    .argument("<name>", "the update's name")
    .option("--args <json>", "the update's arguments: JSON, or @file")
    .option("--id <id>", "the update's id: the same id is delivered once")
    .option("--workflows <module>", "with --store: the module defining the run's workflow")
    .action(
      act<{ args?: string; id?: string }>(out, async (b, p, [run, name], f) => {
        const result = await b.update(
          run as string,
          name as string,
          jsonArgument(f.args, "--args"),
          f.id !== undefined ? { id: f.id } : {},
        );
        if (p.json) return printJson(p, { runId: run, name, result });
        p.out.log(text(result));
      }),
    );
}

/** The `memory` command group. */
export function memoryCommand(out: Output): Command {
  const memory = new Command("memory").description("read and write durable memory");
  connected(memory.command("ls").description("list namespaces, or a namespace's keys"))
    .argument("[namespace]", "the namespace whose keys to list")
    .option("--prefix <text>", "only keys that start with it")
    .option("--limit <n>", "keys per page (default 100, at most 1000)")
    .option("--after <key>", "keys after this one (the next page)")
    .action(
      act<{ prefix?: string; limit?: string; after?: string }>(
        out,
        async (b, p, [namespace], f) => {
          if (namespace === undefined) {
            const namespaces = await b.memoryNamespaces();
            if (p.json) return printJson(p, { namespaces });
            if (namespaces.length === 0) return p.out.log("no memory yet");
            for (const n of namespaces)
              p.out.log(`${n.namespace}  ${n.keys} key${n.keys === 1 ? "" : "s"}  ${n.updatedAt}`);
            return;
          }
          const limit = limitOf(f.limit);
          const page = await b.memoryKeys(namespace, {
            ...(f.prefix !== undefined ? { prefix: f.prefix } : {}),
            ...(f.after !== undefined ? { after: f.after } : {}),
            ...(limit !== undefined ? { limit } : {}),
          });
          if (p.json) return printJson(p, page);
          for (const k of page.keys) p.out.log(`${k.key}  v${k.version}  ${text(k.value)}`);
          if (page.next !== null) p.out.log(`more: --after ${page.next}`);
        },
      ),
    );
  connected(memory.command("get").description("print a key's value, version and last writer"))
    .argument("<namespace>", "the namespace")
    .argument("<key>", "the key")
    .action(
      act(out, async (b, p, [namespace, key]) => {
        const value = await b.memoryGet(namespace as string, key as string);
        if (p.json) return printJson(p, value);
        if (value === null) return p.out.log(`memory '${namespace}' has no key '${key}'`);
        p.out.log(text(value.value));
        p.out.log(
          `version ${value.version}, written ${value.updatedAt} by ${value.runId !== null ? `run ${value.runId}` : (value.by ?? "someone")}`,
        );
      }),
    );
  connected(memory.command("set").description("set a key (the writer is you, or the token's name)"))
    .argument("<namespace>", "the namespace")
    .argument("<key>", "the key")
    .argument("<json>", "the value: JSON, or @file")
    .action(
      act(out, async (b, p, [namespace, key, value]) => {
        const written = await b.memorySet(
          namespace as string,
          key as string,
          jsonArgument(value, "the value"),
        );
        if (p.json) return printJson(p, written);
        p.out.log(`set ${namespace}/${key}: version ${written.version}`);
      }),
    );
  connected(memory.command("history").description("a key's last writes, newest first"))
    .argument("<namespace>", "the namespace")
    .argument("<key>", "the key")
    .option("--limit <n>", "writes to show (default 100)")
    .action(
      act<{ limit?: string }>(out, async (b, p, [namespace, key], f) => {
        const history = await b.memoryHistory(namespace as string, key as string, limitOf(f.limit));
        if (p.json) return printJson(p, { history });
        for (const h of history) {
          const who = h.runId !== null ? `run ${h.runId}` : (h.by ?? "someone");
          p.out.log(`v${h.version}  ${h.at}  ${who}  ${text(h.value)}`);
        }
      }),
    );
  return memory;
}
