// The worker processes of a chaos run: one slot per worker, each slot keeping its worker id
// across restarts (so a restarted PostgreSQL worker reclaims its runs at once), killed with
// SIGKILL on demand and started again, stopped with SIGTERM at the end.
import { spawn, type ChildProcess } from "node:child_process";

const WORKER = new URL("./worker.mjs", import.meta.url).pathname;
/** How long a worker may take to close gracefully before it is killed, in ms. */
const STOP_MS_MAX = 15_000;
/** Lines of stderr kept from a worker that exited by itself. */
const STDERR_CHARS_MAX = 2_000;

/** What every worker of the pool is started with (see worker.mjs). */
export interface WorkerConfig {
  readonly store: "sqlite" | "postgres";
  readonly target: string;
  readonly log: string;
  readonly side: string;
  readonly faultRate: number;
  readonly leaseMs: number;
  readonly retention: string;
  readonly broken?: string;
}

/** Counters the pool keeps while it runs. */
export interface PoolCounts {
  kills: number;
  faults: number;
  lies: number;
  starts: number;
  /** Workers that exited without being killed or stopped, with what they said. */
  readonly selfExits: string[];
  /** Workers that could not open their store while a connection was cut (started again). */
  refusedStarts: number;
}

interface Slot {
  readonly workerId: string;
  child: ChildProcess | null;
  exited: Promise<void>;
  /** Resolves when the current worker printed `ready` (or exited before). */
  ready: Promise<void>;
  expectedExit: boolean;
}

/** A pool of chaos workers. */
export class WorkerPool {
  readonly counts: PoolCounts = {
    kills: 0,
    faults: 0,
    lies: 0,
    starts: 0,
    selfExits: [],
    refusedStarts: 0,
  };
  private readonly slots: Slot[];
  private stopping = false;

  constructor(
    private readonly config: WorkerConfig,
    size: number,
    private readonly seed: number,
    private readonly onWarn: (line: string) => void,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => ({
      workerId: `chaos-w${i}`,
      child: null,
      exited: Promise.resolve(),
      ready: Promise.resolve(),
      expectedExit: false,
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Starts every slot's worker. */
  startAll(): void {
    for (const slot of this.slots) this.spawn(slot);
  }

  /** Resolves when the worker of slot `index` is ready (its engine open) or gone. */
  ready(index: number): Promise<void> {
    return this.slots[index]?.ready ?? Promise.resolve();
  }

  /** SIGKILLs the worker of slot `index` and starts a new one in its place. */
  async kill(index: number): Promise<void> {
    const slot = this.slots[index];
    if (slot === undefined) throw new Error(`no worker slot ${index}`);
    if (slot.child !== null && slot.child.exitCode === null && slot.child.signalCode === null) {
      slot.expectedExit = true;
      slot.child.kill("SIGKILL");
      await slot.exited;
      this.counts.kills++;
    }
    this.spawn(slot);
  }

  /** Stops every worker gracefully (SIGTERM), killing those that do not exit in time. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (child === null || child.exitCode !== null || child.signalCode !== null) return;
        slot.expectedExit = true;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS_MAX);
        await slot.exited;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(slot: Slot): void {
    if (this.stopping) return;
    const options = {
      ...this.config,
      workerId: slot.workerId,
      seed: this.seed * 7919 + this.counts.starts,
    };
    const child = spawn(process.execPath, [WORKER, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.counts.starts++;
    slot.child = child;
    slot.expectedExit = false;
    let buffer = "";
    let stderr = "";
    let isReady = false;
    let markReady = (): void => {};
    slot.ready = new Promise((resolve) => (markReady = resolve));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("fault ")) this.counts.faults++;
        else if (line.startsWith("lie ")) this.counts.lies++;
        else if (line === "ready") {
          isReady = true;
          markReady();
        } else this.onWarn(`${slot.workerId}: ${line}`);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_CHARS_MAX);
    });
    slot.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        // A store unreachable while the worker opens it (the proxy cut its connection) ends
        // the process with store_unavailable by design: a supervisor starts it again. Any
        // other exit of its own is a violation.
        const refused = !isReady && code === 1 && stderr.includes("store_unavailable");
        if (!slot.expectedExit && !this.stopping && refused) {
          this.counts.refusedStarts++;
          if (slot.child === child) this.spawn(slot);
        } else if (!slot.expectedExit && !this.stopping) {
          this.counts.selfExits.push(
            `${slot.workerId} exited with ${code ?? signal}: ${stderr.trim()}`,
          );
          // A worker that died by itself is started again, as a supervisor would.
          if (slot.child === child) this.spawn(slot);
        }
        markReady();
        resolve();
      });
    });
  }
}
