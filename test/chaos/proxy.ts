// A small TCP proxy between the chaos workers and PostgreSQL that misbehaves at seeded
// random instants: it cuts a connection (both sides destroyed mid-conversation) or stalls
// every connection for a while (bytes held back, as a congested network would, sometimes
// past the workers' lease).
import { createServer, connect, type Server, type Socket } from "node:net";
import { rng } from "./faulty-store.mjs";

/** Delay between two faults, in ms. */
const FAULT_GAP_MS: readonly [number, number] = [300, 1_500];
/** Length of a stall, in ms: up to past a 3 s lease. */
const STALL_MS: readonly [number, number] = [200, 4_000];

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
}

/** A running proxy; `faults` counts the cuts and stalls it made. */
export class ChaosProxy {
  faults = 0;
  private readonly pairs = new Set<Pair>();
  private timer: NodeJS.Timeout | null = null;
  private stalled = false;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly random: () => number,
  ) {}

  /** Listens on a free local port, forwarding to `host:port`. */
  static async start(host: string, port: number, seed: number): Promise<ChaosProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    const proxy = new ChaosProxy(server, address.port, rng(seed ^ 0x5eed));
    server.on("connection", (client) => proxy.accept(client, host, port));
    proxy.schedule();
    return proxy;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const p of this.pairs) this.cut(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    const server = connect(port, host);
    const pair = { client, server };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on("data", (chunk: Buffer) => {
        if (!to.write(chunk)) from.pause();
      });
      to.on("drain", () => {
        if (!this.stalled) from.resume();
      });
    };
    forward(client, server);
    forward(server, client);
    if (this.stalled) {
      client.pause();
      server.pause();
    }
    const end = (): void => this.cut(pair);
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
  }

  private cut(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.server.destroy();
  }

  private between([lo, hi]: readonly [number, number]): number {
    return lo + Math.floor(this.random() * (hi - lo));
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      const pairs = [...this.pairs];
      if (this.random() < 0.5 && pairs.length > 0) {
        const victim = pairs[Math.floor(this.random() * pairs.length)];
        if (victim !== undefined) this.cut(victim);
        this.faults++;
        this.schedule();
        return;
      }
      this.faults++;
      this.stalled = true;
      for (const p of pairs) {
        p.client.pause();
        p.server.pause();
      }
      this.timer = setTimeout(() => {
        this.stalled = false;
        for (const p of this.pairs) {
          p.client.resume();
          p.server.resume();
        }
        this.schedule();
      }, this.between(STALL_MS));
    }, this.between(FAULT_GAP_MS));
  }
}
