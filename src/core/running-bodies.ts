// Deterministic: the step bodies a run has in flight: counted (a run with one running is never
// idle, and a graceful close waits until none is), and aborted when the run stops.

/** The step bodies of one run. */
export class RunningBodies {
  private count = 0;
  private quietWaiter: (() => void) | null = null;
  private readonly controllers = new Set<AbortController>();
  private runController: AbortController | null = null;

  /** True while a body runs. */
  get active(): boolean {
    return this.count > 0;
  }

  started(): void {
    this.count++;
  }

  ended(): void {
    this.count--;
    if (this.count === 0 && this.quietWaiter !== null) {
      this.quietWaiter();
      this.quietWaiter = null;
    }
  }

  /** Resolves once no body runs, or once `stopped()` is true after a {@link wake}. */
  async quiet(stopped: () => boolean): Promise<void> {
    while (this.count > 0 && !stopped()) await new Promise<void>((r) => (this.quietWaiter = r));
  }

  /** Wakes a pending {@link quiet} to look at `stopped()` again. */
  wake(): void {
    this.quietWaiter?.();
  }

  /** The run's signal, made on first use: for bodies without a timeout. */
  get runSignal(): AbortSignal {
    this.runController ??= new AbortController();
    return this.runController.signal;
  }

  /** An abort controller of the body's own, that {@link abort} aborts. */
  controller(): { controller: AbortController; release: () => void } {
    const controller = new AbortController();
    this.controllers.add(controller);
    return { controller, release: () => this.controllers.delete(controller) };
  }

  /** Aborts every body with `reason`. */
  abort(reason: unknown): void {
    this.runController?.abort(reason);
    this.runController = null;
    for (const c of this.controllers) c.abort(reason);
    this.controllers.clear();
  }
}
