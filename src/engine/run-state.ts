// Where a run is, for programs: the structured half of `engine.explain`.
import type { ErrorRecord } from "../core/errors.js";

/** A run's state, for programs. */
export type RunState =
  | { readonly kind: "pending"; readonly since: Date }
  | {
      readonly kind: "running";
      readonly since: Date;
      /** The step executing now (the latest started, when several run at once), if any. */
      readonly step: string | null;
      /** Its attempt, from 1. */
      readonly attempt: number | null;
      readonly lastStep: string | null;
    }
  | {
      readonly kind: "retrying";
      readonly step: string;
      readonly attempt: number;
      readonly attempts: number;
      readonly lastError: string;
      readonly nextTryAt: Date;
    }
  | {
      readonly kind: "sleeping";
      readonly sleep: string;
      readonly since: Date;
      readonly until: Date;
    }
  | {
      readonly kind: "waiting_for_event";
      readonly wait: string;
      readonly event: string;
      readonly match: Readonly<Record<string, unknown>> | null;
      readonly since: Date;
      readonly timesOutAt: Date;
    }
  | {
      readonly kind: "waiting_for_signal";
      readonly signal: string;
      readonly since: Date;
      readonly timesOutAt: Date;
    }
  | {
      readonly kind: "waiting_for_approval";
      readonly approval: string;
      readonly title: string | null;
      readonly approvals: number;
      readonly quorum: number;
      readonly since: Date;
      readonly timesOutAt: Date;
      /** The run's other open approvals, oldest first. */
      readonly others: ReadonlyArray<{
        readonly approval: string;
        readonly title: string | null;
        readonly since: Date;
        readonly timesOutAt: Date;
      }>;
    }
  | { readonly kind: "cancelling"; readonly reason: string }
  | {
      readonly kind: "paused";
      readonly reason: string;
      readonly message: string;
      /** The error that paused it (a `NonDeterminismError` with the divergence), as data. */
      readonly error: ErrorRecord | null;
    }
  | { readonly kind: "completed"; readonly at: Date; readonly took: number }
  | {
      readonly kind: "failed";
      readonly at: Date;
      readonly error: string;
      /** The error's class (`StepTimeoutError`, `Error`, ...) and endure code, if it has one. */
      readonly errorName: string;
      readonly errorCode: string | null;
      readonly step: string | null;
      readonly attempts: number | null;
    }
  | { readonly kind: "cancelled" | "timed_out"; readonly at: Date; readonly reason: string };
