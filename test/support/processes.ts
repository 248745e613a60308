// Child processes for multi-process tests: spawned with their output collected line by line,
// waited on by pattern, and always killed after the test (continued first if stopped).
import { spawn, type ChildProcess } from "node:child_process";
import { onCleanup } from "../helpers.js";

/** A child process and what it printed. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first line (past or future) that `pattern` matches. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | string | null>;
  readonly alive: () => boolean;
}

/** Starts `node <script> ...args`, killed with SIGKILL after the test if still running. */
export function spawnNode(script: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let buffer = "";
  let stderr = "";
  let done = false;
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on("exit", (code, signal) => {
      done = true;
      resolve(code ?? signal);
    }),
  );
  onCleanup(async () => {
    if (done) return;
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  });
  return {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    alive: () => !done,
    waitFor(pattern: RegExp, ms = 30_000): Promise<string> {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no line matching ${String(pattern)} within ${ms} ms; stdout: ${lines.join(" | ")}; stderr: ${stderr}`,
            ),
          );
        }, ms);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
