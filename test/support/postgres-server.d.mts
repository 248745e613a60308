// Types of postgres-server.mjs, for the TypeScript tests that import it.

/** A running throwaway server. */
export interface ThrowawayPostgres {
  /** Connection URL of the `postgres` database, as the superuser `postgres`. */
  readonly url: string;
  readonly port: number;
  /** Where the binaries came from. */
  readonly source: string;
  readonly pid: number | null;
  /** Stops the server (fast shutdown) and starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server, keeping its files until `stop`. */
  halt(): Promise<void>;
  /** Starts a halted server again. */
  resume(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

export function findBinaries(): Promise<{ bin: string; source: string }>;

export function startPostgres(options?: {
  durable?: boolean;
  settings?: Record<string, string>;
}): Promise<ThrowawayPostgres>;
