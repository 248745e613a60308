// The shapes the API answers with, as JSON: times are ISO 8601 strings, errors plain data.
import type { RunStatus } from "../core/types.js";

/** An error as plain data: its name, message, code (endure's and coded errors), stack,
 * cause, and the fields its class adds (`props`). */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly endure?: true;
  readonly stack?: string;
  readonly cause?: unknown;
  readonly props?: Readonly<Record<string, unknown>>;
}

/** A run. */
export interface RunView<O = unknown> {
  readonly id: string;
  readonly workflow: string;
  readonly version: string | null;
  readonly status: RunStatus;
  readonly input: unknown;
  readonly output?: O;
  readonly error?: ErrorData;
  readonly pausedReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt: string | null;
  readonly wakeAt: string | null;
  readonly priority: number;
  readonly concurrencyKey: string | null;
  readonly usage: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly costUsd: number;
    readonly calls: number;
  };
  readonly cancelRequested: { readonly reason: string; readonly kind: string } | null;
  readonly deadlineAt: string | null;
}

/** What starting a run answers. `explain` is set when the run went on past `?wait=`. */
export interface StartedRun<O = unknown> {
  readonly run: RunView<O>;
  readonly created: boolean;
  readonly url: string;
  readonly streamUrl: string;
  readonly explain?: string;
  /** HTTP status: 201 created, 200 existed or ended in the wait, 202 goes on. */
  readonly status: number;
}

/** A journal entry. */
export interface JournalEntryView {
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly position: number | null;
  readonly key: string | null;
  readonly data: unknown;
  /** True for an entry a later rewind superseded. */
  readonly superseded?: true;
  /** The journal segment of the entry: 1, then 2, 3, ... after each `ctx.continueAsNew`. */
  readonly segment: number;
}

/** Where a run is and why. */
export interface ExplanationView {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunStatus;
  readonly state: { readonly kind: string; readonly [field: string]: unknown };
  readonly sentence: string;
  readonly alsoPending: number;
}

/** An open approval. */
export interface ApprovalView {
  readonly runId: string;
  readonly workflow: string;
  readonly name: string;
  readonly title: string;
  readonly details: unknown;
  /** Who may decide: the approval's own approvers, then those its escalations added. */
  readonly approvers: readonly string[];
  /** Approvers added by the approval's `escalate` rungs so far, in order. */
  readonly escalatedTo: readonly string[];
  readonly role: string | null;
  readonly quorum: number;
  readonly decisions: readonly {
    readonly by: string;
    readonly approved: boolean;
    readonly comment: string | null;
    readonly at: string;
  }[];
  readonly requestedAt: string;
  readonly timesOutAt: string;
}

/** A part of a run's output stream. */
export interface StreamChunkView {
  readonly offset: number;
  readonly at: string;
  readonly part: { readonly type: string; readonly [key: string]: unknown };
}

/** One change of a live run. */
export type RunUpdate =
  | { readonly kind: "entry"; readonly entry: JournalEntryView }
  | { readonly kind: "run"; readonly run: RunView };

/** The server's readiness. */
export interface Readiness {
  readonly ok: boolean;
  readonly store: {
    readonly ok: boolean;
    readonly latencyMs: number;
    readonly error: string | null;
  };
  readonly closing: boolean;
}

/** Filter of `listRuns`. */
export interface RunListFilter {
  readonly workflow?: string;
  readonly status?: RunStatus;
  readonly createdAfter?: Date | string;
  readonly createdBefore?: Date | string;
  readonly idContains?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** A memory namespace that holds keys. */
export interface MemoryNamespaceView {
  readonly namespace: string;
  readonly keys: number;
  readonly updatedAt: string;
}

/** A memory key's value with where it came from. */
export interface MemoryValueView<T = unknown> {
  readonly namespace: string;
  readonly key: string;
  readonly value: T;
  readonly version: number;
  readonly updatedAt: string;
  /** The run that wrote it last, or null when written from outside a run. */
  readonly runId: string | null;
  /** Who wrote it from outside a run (a token's name through the API), or null. */
  readonly by: string | null;
}

/** One write in a memory key's history. */
export interface MemoryVersionView<T = unknown> {
  readonly version: number;
  readonly value: T;
  readonly at: string;
  readonly runId: string | null;
  readonly position: number | null;
  readonly by: string | null;
}
