// The commands' operations through an endure server (--url): the typed client of the HTTP
// API, with the token's identity as the decider of approvals.
import { createClient } from "../client/client.js";
import { InvalidArgumentError } from "../core/errors.js";
import { JOURNAL_ENTRIES_MAX_DEFAULT } from "../core/limits.js";
import type { Backend, EntryView, RunView } from "./backend.js";

/** Journal entries asked for per page when a command reads a whole journal. */
const JOURNAL_PAGE_ENTRIES = 1_000;

/** A backend on the server at `url`, calling with `token` (when the server has tokens). */
export function openClientBackend(url: string, token: string | undefined): Backend {
  const client = createClient({ url, ...(token !== undefined ? { token } : {}) });
  const asRun = (run: unknown): RunView => run as RunView;
  return {
    description: url,
    listRuns: async (filter) => {
      const page = await client.listRuns({
        ...filter,
        ...(filter.status !== undefined ? { status: filter.status } : {}),
      } as Parameters<typeof client.listRuns>[0]);
      return { runs: page.runs.map(asRun), next: page.next };
    },
    getRun: async (id) => asRun(await client.getRun(id)),
    journal: async (id) => {
      const entries: EntryView[] = [];
      let from: number | null = 1;
      // Bounded: a journal holds at most JOURNAL_ENTRIES_MAX_DEFAULT entries by default.
      while (from !== null && entries.length <= JOURNAL_ENTRIES_MAX_DEFAULT) {
        const page = await client.journal(id, { from, limit: JOURNAL_PAGE_ENTRIES });
        entries.push(...(page.entries as unknown as EntryView[]));
        from = page.next;
      }
      return entries;
    },
    explain: (id) => client.explain(id),
    cancel: async (id, reason) => asRun(await client.cancel(id, reason)),
    retry: async (id) => asRun(await client.retry(id)),
    rewind: async (id, toStep) => asRun(await client.rewind(id, { toStep })),
    fork: async (id, options) => asRun(await client.fork(id, options)),
    resume: async (id, version) =>
      asRun(await client.resume(id, version === undefined ? {} : { version })),
    start: async (workflow, input, options) => {
      const started = await client.start(workflow, input, options);
      return { id: started.run.id, created: started.created };
    },
    sendEvent: (event) => client.sendEvent(event),
    signal: (id, name, data) => client.signal(id, name, data),
    approvals: (filter) => client.approvals(filter),
    decide: async (id, name, approved, options) => {
      if (options.by !== undefined) {
        throw new InvalidArgumentError(
          "--by is for a store opened directly; through a server the decider is the token's name",
        );
      }
      const decision = options.comment !== undefined ? { comment: options.comment } : {};
      const result = approved
        ? await client.approve(id, name, decision)
        : await client.reject(id, name, decision);
      return { outcome: result.outcome };
    },
    query: (id, name, args) => client.query(id, name, args),
    update: (id, name, args, options) => client.update(id, name, args, options),
    memoryNamespaces: () => client.memoryNamespaces(),
    memoryKeys: (namespace, options) => client.memoryKeys(namespace, options),
    memoryGet: (namespace, key) => client.memory(namespace, key),
    memorySet: (namespace, key, value) => client.setMemory(namespace, key, value),
    memoryHistory: (namespace, key, limit) =>
      client.memoryHistory(namespace, key, limit === undefined ? {} : { limit }),
    gc: () =>
      Promise.reject(
        new InvalidArgumentError(
          "gc runs on a store: pass --store <url> (a server runs retention daily by itself)",
        ),
      ),
    verify: () =>
      Promise.reject(
        new InvalidArgumentError(
          "verify reads the journal as stored: pass --store <url> (the database the server uses)",
        ),
      ),
    shred: () =>
      Promise.reject(
        new InvalidArgumentError(
          "shred deletes a run's key in the database: pass --store <url> (the database the server uses)",
        ),
      ),
    rotateKeys: () =>
      Promise.reject(
        new InvalidArgumentError(
          "keys rotate rewraps run keys in the database with the key ring: pass --store <url> " +
            "and --keys <file>",
        ),
      ),
    close: () => Promise.resolve(),
  };
}
