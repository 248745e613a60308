// What the commands need from endure, whether through a server (endure/client) or on a store
// opened directly: plain JSON data in both cases, so both print the same.

/** A run as the commands see it: plain data, times as ISO strings. */
export interface RunView {
  readonly id: string;
  readonly workflow: string;
  readonly status: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: { name: string; message: string; code?: string } | null;
  readonly pausedReason?: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string | null;
  readonly usage?: {
    readonly inputTokens?: number;
    readonly outputTokens?: number;
    readonly costUsd?: number;
  };
}

/** A journal entry as the commands see it. */
export interface EntryView {
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly position: number | null;
  readonly key: string | null;
  readonly data: unknown;
}

/** An open approval as the commands see it. */
export interface ApprovalView {
  readonly runId: string;
  readonly workflow: string;
  readonly name: string;
  readonly title: string;
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly decisions: readonly { by: string; approved: boolean }[];
  readonly requestedAt: string;
  readonly timesOutAt: string;
}

/** Where a run is and why. */
export interface ExplanationView {
  readonly runId: string;
  readonly status: string;
  readonly sentence: string;
  readonly state: { readonly kind: string };
}

/** A memory namespace as the commands see it. */
export interface MemoryNamespaceView {
  readonly namespace: string;
  readonly keys: number;
  readonly updatedAt: string;
}

/** A memory key's value as the commands see it. */
export interface MemoryValueView {
  readonly namespace: string;
  readonly key: string;
  readonly value: unknown;
  readonly version: number;
  readonly updatedAt: string;
  readonly runId: string | null;
  readonly by: string | null;
}

/** One write of a memory key as the commands see it. */
export interface MemoryVersionView {
  readonly version: number;
  readonly value: unknown;
  readonly at: string;
  readonly runId: string | null;
  readonly position: number | null;
  readonly by: string | null;
}

/** What `verify` found: see `engine.verify`. */
export interface VerifyView {
  readonly runId: string;
  readonly ok: boolean;
  readonly entries: number;
  readonly chained: number;
  readonly head: string | null;
  readonly problems: readonly { seq: number; type: string; key: string | null; problem: string }[];
}

/** The operations behind the commands. */
export interface Backend {
  /** What it is connected to, for messages: a URL or a store description. */
  readonly description: string;
  listRuns(filter: {
    workflow?: string;
    status?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ runs: RunView[]; next: string | null }>;
  getRun(runId: string): Promise<RunView>;
  journal(runId: string): Promise<EntryView[]>;
  /** The run's journal as a journal file (`replayJournal`'s format), or null when this
   * backend cannot read journals as stored (through a server). */
  replayableJournal?(runId: string): Promise<string>;
  /** Writes the audit export of the runs updated in a range (`export --since`), or is absent
   * when this backend cannot read journals as stored (through a server). */
  auditExport?(
    range: { since: number; until: number | null },
    write: (line: string) => void,
  ): Promise<{ runs: number; entries: number }>;
  explain(runId: string): Promise<ExplanationView>;
  cancel(runId: string, reason: string | undefined): Promise<RunView>;
  retry(runId: string): Promise<RunView>;
  rewind(runId: string, toStep: string | number): Promise<RunView>;
  fork(
    runId: string,
    options: { atStep: string | number; output?: unknown; id?: string },
  ): Promise<RunView>;
  resume(runId: string, version?: string): Promise<RunView>;
  start(
    workflow: string,
    input: unknown,
    options: { id?: string },
  ): Promise<{ id: string; created: boolean }>;
  sendEvent(event: {
    name: string;
    data?: unknown;
    id?: string;
  }): Promise<{ id: string; created: boolean; woke: number }>;
  signal(runId: string, name: string, data: unknown): Promise<void>;
  approvals(filter: { runId?: string; limit?: number }): Promise<ApprovalView[]>;
  decide(
    runId: string,
    name: string,
    approved: boolean,
    options: { comment?: string; by?: string },
  ): Promise<{ outcome: string }>;
  query(runId: string, name: string, args: unknown): Promise<unknown>;
  update(runId: string, name: string, args: unknown, options: { id?: string }): Promise<unknown>;
  memoryNamespaces(): Promise<MemoryNamespaceView[]>;
  memoryKeys(
    namespace: string,
    options: { prefix?: string; limit?: number; after?: string },
  ): Promise<{ keys: MemoryValueView[]; next: string | null }>;
  memoryGet(namespace: string, key: string): Promise<MemoryValueView | null>;
  memorySet(namespace: string, key: string, value: unknown): Promise<MemoryValueView>;
  memoryHistory(namespace: string, key: string, limit?: number): Promise<MemoryVersionView[]>;
  gc(): Promise<unknown>;
  verify(runId: string): Promise<VerifyView>;
  /** Deletes an ended run's data key: see `engine.shred`. */
  shred(runId: string): Promise<{ runId: string; shreddedAt: string; already: boolean }>;
  /** Wraps every run's data key under the ring's current key: see `engine.rotateKeys`. */
  rotateKeys(): Promise<{ keys: number; rewrapped: number; skipped: number }>;
  close(): Promise<void>;
}
