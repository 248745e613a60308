// Deterministic: the `ctx` a workflow function receives: each call has its arguments checked
// and becomes an operation of the run (a step, a sleep, a wait) or a recorded value.
import { checkChild, type CheckedChild } from "./child-op.js";
import { checkedWait } from "./context-waits.js";
import type { Duration } from "./duration.js";
import { InvalidArgumentError } from "./errors.js";
import type { JournalEntry } from "./journal.js";
import type { Op, OpScope } from "./op.js";
import type { Cleanup } from "./cancellation.js";
import type { StreamPart } from "./stream.js";
import type { RunPort } from "./run-port.js";
import { encodeValue } from "./serialize.js";
import type { PayloadShape } from "./shapes.js";
import { checkedSleep, runSleep, type WakeAt } from "./sleep-op.js";
import {
  checkMemoryKey,
  checkMemoryNamespace,
  encodeMemoryValue,
  type MemoryHandle,
} from "./memory.js";
import { runMemory, type MemoryAction } from "./memory-op.js";
import { runStep } from "./step-op.js";
import type { CombinatorKind } from "./combinators.js";
import { MAP_CONCURRENCY_DEFAULT } from "./limits.js";
import type { UpdateHandler } from "./updates.js";
import type {
  ChildHandle,
  ChildOptions,
  ChildWorkflowDefinition,
  InvokeOptions,
  MapChildOptions,
  MapOptions,
  MapOutcome,
  SomeResult,
  WorkflowContext,
  ApprovalOptions,
  ApprovalResult,
  ReceivedEvent,
  ReceivedSignal,
  StepContext,
  StepOptions,
  TransactionalStepContext,
  UpdateOptions,
  WaitForEventOptions,
  WaitOptions,
} from "./types.js";
import { runWait, type WaitSpec } from "./wait-op.js";
import { checkName } from "./workflow.js";

/** What a wait waits for: two open waits for the same thing compete for what arrives. */
export interface WaitTarget {
  readonly kind: WaitSpec["kind"];
  readonly target: string;
}

/** Executes an operation live; `prior` is what the journal recorded of it so far. */
export type OpRun = (
  scope: OpScope,
  op: Op,
  prior: readonly JournalEntry[] | undefined,
) => Promise<void>;

/** A value `ctx` records once and replays after. */
export type ValueKind = "now" | "random" | "uuid";

/** What the workflow context asks of its run's execution. */
export interface RunOperations {
  readonly runId: string;
  readonly workflowName: string;
  readonly port: RunPort;
  /** Gives an operation its place in the run, then runs it live or hands it its journaled result. */
  operation<T>(
    kind: "step" | "sleep" | "wait" | "memory",
    name: string,
    run: OpRun,
    target?: WaitTarget,
    shape?: PayloadShape | null,
    /** Called with the result as the code is handed it (also on replay), before the code. */
    succeeded?: (value: unknown) => void,
  ): Promise<T>;
  /** Registers an undo to run if the run fails or is cancelled (newest first). */
  compensation(name: string, undo: () => Promise<unknown>): void;
  /** A combinator over operations of the run (see `combinators.ts`). */
  combine(kind: CombinatorKind, k: number, inputs: readonly unknown[]): Promise<unknown>;
  /** The journaled value at the next position, or one made by `make` and journaled there. */
  recordValue(kind: ValueKind, make: () => number | string): number | string;
  /** Whether the run takes patch `id`'s new branch (journaled the first time it does). */
  patch(id: string, deprecated: boolean): boolean;
  onCancel(cleanup: Cleanup): void;
  emit(part: StreamPart): void;
  onQuery(name: string, handler: (args: unknown) => unknown): void;
  onUpdate(name: string, handler: UpdateHandler): void;
  /** Ends the run's journal segment and carries on in a fresh one with `input`. */
  continueAsNew(input: unknown): Promise<never>;
}

/** The workflow context of one run, over the operations its execution supplies. */
export class RunWorkflowContext implements WorkflowContext {
  readonly runId: string;
  readonly workflowName: string;
  private readonly port: RunPort;

  constructor(private readonly run: RunOperations) {
    this.runId = run.runId;
    this.workflowName = run.workflowName;
    this.port = run.port;
  }

  onCancel(cleanup: Cleanup): void {
    this.run.onCancel(cleanup);
  }

  continueAsNew(input: unknown): Promise<never> {
    try {
      return this.run.continueAsNew(input);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  onUpdate<A = unknown, R = unknown>(
    name: string,
    handler: (args: A) => R | Promise<R>,
    options: UpdateOptions<A> = {},
  ): void {
    checkName(name, "update name");
    if (typeof handler !== "function")
      throw new InvalidArgumentError(`update '${name}' needs a handler function`);
    if (options.validate !== undefined && typeof options.validate !== "function")
      throw new InvalidArgumentError(`update '${name}': validate must be a function`);
    this.run.onUpdate(name, {
      handler: handler as (args: unknown) => unknown,
      validate: options.validate as ((args: unknown) => boolean | string | void) | undefined,
    });
  }

  onQuery<A = unknown, R = unknown>(name: string, handler: (args: A) => R): void {
    checkName(name, "query name");
    if (typeof handler !== "function")
      throw new InvalidArgumentError(`query '${name}' needs a handler function`);
    this.run.onQuery(name, handler as (args: unknown) => unknown);
  }

  emit(part: StreamPart): void {
    this.run.emit(part);
  }

  step<T>(
    name: string,
    fn:
      | ((step: StepContext) => T | Promise<T>)
      | ((step: TransactionalStepContext) => T | Promise<T>),
    options: StepOptions<T> = {},
  ): Promise<T> {
    try {
      checkName(name, "step name");
      if (typeof fn !== "function")
        throw new InvalidArgumentError(`step '${name}' needs a function`);
      if (options.compensate !== undefined && typeof options.compensate !== "function")
        throw new InvalidArgumentError(`step '${name}' compensate must be a function`);
      if (options.compensate !== undefined && options.transactional === true) {
        throw new InvalidArgumentError(
          `step '${name}' is transactional: its writes roll back with their transaction, so it ` +
            "takes no compensate; undo it with a transactional step of its own",
        );
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const compensate = options.compensate as ((r: unknown, s: StepContext) => unknown) | undefined;
    return this.run.operation<T>(
      "step",
      name,
      (scope, op, prior) =>
        runStep(
          scope,
          op,
          fn as (s: StepContext) => unknown,
          options as StepOptions<unknown>,
          prior,
        ),
      undefined,
      undefined,
      compensate === undefined
        ? undefined
        : (value) =>
            this.run.compensation(name, () =>
              this.step(`undo ${name}`, (step: StepContext) => compensate(value, step)),
            ),
    );
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.sleepOp(name, () => checkedSleep.duration(name, duration));
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    return this.sleepOp(name, () => checkedSleep.until(name, until));
  }

  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions<T>,
  ): Promise<ReceivedEvent<T> | null> {
    return this.waitOp(name, () =>
      checkedWait.event(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  waitForSignal<T = unknown>(
    name: string,
    options: WaitOptions = {},
  ): Promise<ReceivedSignal<T> | null> {
    return this.waitOp(name, () =>
      checkedWait.signal(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  approval(name: string, options: ApprovalOptions): Promise<ApprovalResult> {
    return this.waitOp(name, () =>
      checkedWait.approval(name, options, this.port.waitTimeoutMsDefault),
    );
  }

  invoke<O = unknown>(
    name: string,
    workflow: unknown,
    input: unknown,
    options: InvokeOptions = {},
  ): Promise<O> {
    let child: CheckedChild;
    try {
      checkName(name, "invoke name");
      child = checkChild(this.port, `invoke '${name}'`, workflow, input, options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run.operation<O>("wait", name, (scope, op, prior) => {
      const request = child.request(this.runId, op.key);
      const spec: WaitSpec = {
        kind: "child",
        target: request.runId,
        match: null,
        timeoutMs: child.timeoutMs,
        policy: [],
        details: null,
        title: null,
        child: request,
      };
      return runWait(scope, op, spec, prior);
    });
  }

  startChild(
    name: string,
    workflow: unknown,
    input: unknown,
    options: ChildOptions = {},
  ): Promise<ChildHandle> {
    let child: CheckedChild;
    try {
      checkName(name, "startChild name");
      if ((options as InvokeOptions).timeout !== undefined) {
        throw new InvalidArgumentError(
          `startChild '${name}' takes no timeout: nothing waits for the child (use ctx.invoke)`,
        );
      }
      child = checkChild(this.port, `startChild '${name}'`, workflow, input, options);
    } catch (e) {
      return Promise.reject(e);
    }
    // A step whose result names the child: the child commits with it, once.
    return this.run.operation<ChildHandle>("step", name, (scope, op, prior) =>
      runStep(
        scope,
        op,
        () => {
          const request = child.request(this.runId, op.key);
          this.port.startChild(request);
          return { runId: request.runId, workflow: request.workflow };
        },
        { retries: 0 },
        prior,
      ),
    );
  }

  sendEvent(name: string, event: { name: string; data?: unknown }): Promise<{ id: string }> {
    return this.step(
      name,
      async ({ idempotencyKey }: StepContext) => {
        checkName(event.name, "event name");
        const data = encodeValue(event.data, `event '${event.name}' data`);
        await this.port.sendEvent({ id: idempotencyKey, name: event.name, data });
        return { id: idempotencyKey };
      },
      { retries: 5 },
    );
  }

  patched(id: string): boolean {
    checkName(id, "patch id");
    return this.run.patch(id, false);
  }

  deprecatePatch(id: string): void {
    checkName(id, "patch id");
    this.run.patch(id, true);
  }

  now(): number {
    return this.run.recordValue("now", () => this.port.clock.now()) as number;
  }

  random(): number {
    return this.run.recordValue("random", () => this.port.entropy()) as number;
  }

  uuid(): string {
    return this.run.recordValue("uuid", () => this.port.uuid()) as string;
  }

  memory<T = unknown>(namespace: string, key: string): MemoryHandle<T> {
    checkMemoryNamespace(namespace);
    checkMemoryKey(key);
    const op = <R>(kind: MemoryAction["kind"], action: () => MemoryAction): Promise<R> => {
      let checked: MemoryAction;
      try {
        checked = action();
      } catch (e) {
        return Promise.reject(e);
      }
      return this.run.operation<R>("memory", `${namespace}/${key}:${kind}`, (scope, o) =>
        runMemory(scope, o, namespace, key, checked),
      );
    };
    return {
      get: () => op<T | undefined>("get", () => ({ kind: "get" })),
      set: (value: T) =>
        op<unknown>("set", () => ({
          kind: "set",
          encoded: encodeMemoryValue(value, namespace, key),
        })).then(() => undefined),
      update: (fn: (current: T | undefined) => T | Promise<T>) =>
        op<T>("update", () => {
          if (typeof fn !== "function")
            throw new InvalidArgumentError(
              `memory '${namespace}' key '${key}': update needs a function of the current value`,
            );
          return { kind: "update", fn: fn as (current: unknown) => unknown };
        }),
    };
  }

  all<const T extends readonly unknown[]>(
    operations: T,
  ): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
    return this.run.combine("all", 0, operations) as Promise<{
      -readonly [P in keyof T]: Awaited<T[P]>;
    }>;
  }

  any<const T extends readonly unknown[]>(operations: T): Promise<Awaited<T[number]>> {
    return this.run.combine("any", 0, operations) as Promise<Awaited<T[number]>>;
  }

  race<const T extends readonly unknown[]>(operations: T): Promise<Awaited<T[number]>> {
    return this.run.combine("race", 0, operations) as Promise<Awaited<T[number]>>;
  }

  some<T>(k: number, operations: readonly T[]): Promise<SomeResult<Awaited<T>>[]> {
    return this.run.combine("some", k, operations) as Promise<SomeResult<Awaited<T>>[]>;
  }

  map<I, O>(
    name: string,
    items: readonly I[],
    fn: (item: I, step: StepContext, index: number) => O | Promise<O>,
    options?: MapOptions<O> & { failures?: "throw" },
  ): Promise<Awaited<O>[]>;
  map<I, O>(
    name: string,
    items: readonly I[],
    fn: (item: I, step: StepContext, index: number) => O | Promise<O>,
    options: MapOptions<O> & { failures: "collect" },
  ): Promise<MapOutcome<Awaited<O>>[]>;
  map<I, O>(
    name: string,
    items: readonly I[],
    workflow: ChildWorkflowDefinition<I, O>,
    options: MapChildOptions & { failures?: "throw" },
  ): Promise<O[]>;
  map<I, O>(
    name: string,
    items: readonly I[],
    workflow: ChildWorkflowDefinition<I, O>,
    options: MapChildOptions & { failures: "collect" },
  ): Promise<MapOutcome<O>[]>;
  map(
    name: string,
    items: readonly unknown[],
    fn: unknown,
    options: (MapOptions<unknown> & { child?: unknown }) | MapChildOptions = {},
  ): Promise<unknown[]> {
    let concurrency: number;
    let collect: boolean;
    let start: (item: unknown, index: number) => Promise<unknown>;
    try {
      checkName(name, "map name");
      if (!Array.isArray(items))
        throw new InvalidArgumentError(`map '${name}' needs an array of items`);
      if (typeof options !== "object" || options === null)
        throw new InvalidArgumentError(`map '${name}' options must be an object`);
      const {
        concurrency: c = MAP_CONCURRENCY_DEFAULT,
        failures = "throw",
        child = false,
        ...rest
      } = options as MapOptions<unknown> & { child?: unknown };
      if (!Number.isInteger(c) || c < 1) {
        throw new InvalidArgumentError(
          `map '${name}' concurrency must be a whole number from 1, got ${String(c)}`,
        );
      }
      if (failures !== "throw" && failures !== "collect") {
        throw new InvalidArgumentError(
          `map '${name}' failures must be "throw" or "collect", got ${String(failures)}`,
        );
      }
      if (child !== true && child !== false)
        throw new InvalidArgumentError(`map '${name}' child must be true or false`);
      concurrency = c;
      collect = failures === "collect";
      if (child) {
        if (typeof fn === "function") {
          throw new InvalidArgumentError(
            `map '${name}' with { child: true } takes a workflow (made with workflow()) or its ` +
              "name in place of the function: each item becomes that child run's input",
          );
        }
        if ((rest as InvokeOptions).id !== undefined) {
          throw new InvalidArgumentError(
            `map '${name}' with { child: true } takes no id: each child's id is derived from ` +
              "this run's id and the item's position",
          );
        }
        const invokeOptions = rest as InvokeOptions;
        start = (item) => this.invoke(name, fn, item, invokeOptions);
      } else {
        if (typeof fn !== "function") {
          throw new InvalidArgumentError(
            `map '${name}' needs a function of each item, or a workflow with { child: true }`,
          );
        }
        const body = fn as (item: unknown, step: StepContext, index: number) => unknown;
        const stepOptions = rest as StepOptions<unknown>;
        start = (item, index) =>
          this.step(name, (step: StepContext) => body(item, step, index), stepOptions);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const results: unknown[] = new Array<unknown>(items.length);
    return new Promise((resolve, reject) => {
      let next = 0;
      let running = 0;
      let done = 0;
      let failed = false;
      // Items start in input order, a new one as an earlier one ends: the code's order, so a
      // replay asks for the same steps (or children) at the same positions.
      const launch = (): void => {
        while (!failed && running < concurrency && next < items.length) {
          const index = next++;
          running++;
          start(items[index], index).then(
            (value) => {
              results[index] = collect ? { ok: true, value } : value;
              ended();
            },
            (error: unknown) => {
              if (collect) {
                results[index] = { ok: false, error };
                ended();
                return;
              }
              if (!failed) reject(error);
              failed = true;
            },
          );
        }
      };
      const ended = (): void => {
        running--;
        done++;
        if (done === items.length) resolve(results);
        else launch();
      };
      if (items.length === 0) resolve(results);
      else launch();
    });
  }

  private waitOp<T>(name: string, check: () => WaitSpec): Promise<T> {
    let spec: WaitSpec;
    try {
      checkName(name, "wait name");
      spec = check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run.operation<T>(
      "wait",
      name,
      (scope, op, prior) => runWait(scope, op, spec, prior),
      { kind: spec.kind, target: spec.target },
      spec.shape ?? null,
    );
  }

  private sleepOp(name: string, check: () => WakeAt): Promise<void> {
    let wakeAt: WakeAt;
    try {
      wakeAt = check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.run.operation<void>("sleep", name, (scope, op, prior) =>
      runSleep(scope, op, wakeAt, prior),
    );
  }
}
