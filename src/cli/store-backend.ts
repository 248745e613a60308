// The commands' operations on a store opened directly (--store): a client engine (no worker)
// on the store, and, for gc, an engine whose worker runs only the retention workflow.
import { userInfo } from "node:os";
import { plainValue } from "../core/error-data.js";
import { InvalidArgumentError, RunNotFoundError } from "../core/errors.js";
import { formatJournalFile } from "../testing/replay.js";
import { createEngine, type Engine } from "../engine/engine.js";
import type { AnyWorkflow } from "../engine/options.js";
import type { Codec } from "../protect/codec.js";
import type { Backend, EntryView, RunView } from "./backend.js";
import { exportAudit } from "./audit.js";
import { openedStore } from "./keys.js";
import { loadWorkflows } from "./load-workflows.js";
import { storeFromUrl } from "./store-url.js";

/** Plain JSON data: errors as records, dates as ISO strings. */
export function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(plainValue(value) ?? null)) as T;
}

/** Who decides an approval on a store opened directly: `--by`, else the OS user. */
function deciderOf(by: string | undefined): string {
  if (by !== undefined && by !== "") return by;
  return userInfo().username;
}

/** Opens the store at `url`; `workflowsModule` gives the definitions `start` needs. */
export async function openStoreBackend(
  url: string,
  options: { schema?: string; workflowsModule?: string; codec?: Codec },
): Promise<Backend> {
  const store = storeFromUrl(url, {
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
  });
  const workflows: AnyWorkflow[] =
    options.workflowsModule === undefined ? [] : await loadWorkflows(options.workflowsModule);
  const engine: Engine = await createEngine({
    store,
    workflows,
    worker: false,
    ...(options.codec !== undefined ? { codec: options.codec } : {}),
    logger: { warn: (m) => process.stderr.write(`warn: ${m}\n`) },
  });
  const run = async (id: string) => plain<RunView>(await engine.handle(id).info());
  return {
    description: store.description,
    listRuns: async (filter) =>
      plain(
        await engine.listRuns({
          ...filter,
          ...(filter.status !== undefined ? { status: filter.status } : {}),
        } as Parameters<Engine["listRuns"]>[0]),
      ),
    getRun: run,
    journal: async (id) => plain<EntryView[]>(await engine.journal(id)),
    replayableJournal: async (id) => {
      const reader = openedStore(store, options.codec);
      const run = await reader.getRun(id);
      if (run === null) throw new RunNotFoundError(`no run has the id '${id}'`);
      const { workflow, version, status, input } = run;
      const header = { id, workflow, version, status, input };
      return formatJournalFile(header, await reader.readJournal(id));
    },
    auditExport: (range, write) =>
      exportAudit(
        store,
        options.codec === undefined ? null : openedStore(store, options.codec),
        range,
        write,
      ),
    explain: async (id) => plain(await engine.explain(id)),
    cancel: async (id, reason) =>
      plain(await engine.cancel(id, reason, { by: deciderOf(undefined) })),
    retry: async (id) => plain<RunView>(await engine.retry(id, { by: "cli" })),
    rewind: async (id, toStep) => plain<RunView>(await engine.rewind(id, { toStep, by: "cli" })),
    fork: async (id, options) => plain<RunView>(await engine.fork(id, { ...options, by: "cli" })),
    resume: async (id, version) =>
      plain(await engine.resume(id, version === undefined ? {} : { version })),
    start: async (name, input, o) => {
      const wf = workflows.find((w) => w.name === name);
      if (wf === undefined) {
        throw new InvalidArgumentError(
          workflows.length === 0
            ? `to start '${name}' on a store directly, pass --workflows <module> (its definition checks the input and sets its options), or start it through a server with --url`
            : `the workflows module exports no workflow '${name}' (it has: ${workflows.map((w) => w.name).join(", ")})`,
        );
      }
      const handle = await engine.start(wf, input, { ...o, by: deciderOf(undefined) });
      return { id: handle.id, created: handle.created };
    },
    sendEvent: async (e) => plain(await engine.sendEvent(e)),
    signal: (id, name, data) => engine.signal(id, name, data),
    approvals: async (filter) => plain(await engine.approvals(filter)),
    decide: async (id, name, approved, o) => {
      const decision = {
        by: deciderOf(o.by),
        ...(o.comment !== undefined ? { comment: o.comment } : {}),
      };
      const outcome = approved
        ? await engine.approve(id, name, decision)
        : await engine.reject(id, name, decision);
      return { outcome };
    },
    query: async (id, name, args) => plain(await engine.query(id, name, args)),
    update: async (id, name, args, o) => plain(await engine.update(id, name, args, o)),
    memoryNamespaces: async () => plain(await engine.memoryNamespaces()),
    memoryKeys: async (namespace, o) => plain(await engine.memory(namespace).list(o)),
    memoryGet: async (namespace, key) => plain(await engine.memory(namespace, key).info()),
    memorySet: async (namespace, key, value) =>
      plain(await engine.memory(namespace, key).set(value, { by: deciderOf(undefined) })),
    memoryHistory: async (namespace, key, limit) =>
      plain(await engine.memory(namespace, key).history(limit === undefined ? {} : { limit })),
    gc: async () => {
      await engine.close();
      // The retention workflow needs a worker; one with no workflows of the user's claims nothing else.
      const gcEngine = await createEngine({
        store: storeFromUrl(url, options.schema !== undefined ? { schema: options.schema } : {}),
        workflows: [],
        ...(options.codec !== undefined ? { codec: options.codec } : {}),
      });
      try {
        return plain(await gcEngine.gc());
      } finally {
        await gcEngine.close();
      }
    },
    verify: async (id) => plain(await engine.verify(id)),
    shred: async (id) => plain(await engine.shred(id)),
    rotateKeys: async () => plain(await engine.rotateKeys()),
    close: () => engine.close(),
  };
}
