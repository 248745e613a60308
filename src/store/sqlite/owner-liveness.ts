// On SQLite every worker runs on the machine that holds the file, so a run whose owner's
// process is gone can be taken over at once instead of waiting out its lease.

const liveWorkers = new Set<string>();

/** Marks a worker of this process as alive (until {@link forgetWorker}). */
export function rememberWorker(workerId: string): void {
  liveWorkers.add(workerId);
}

/** Marks a worker of this process as gone. */
export function forgetWorker(workerId: string): void {
  liveWorkers.delete(workerId);
}

/**
 * Whether the owner of a lease may still be running. In this process, only registered
 * workers are alive; elsewhere, a process that exists (even one we may not signal) is. A pid
 * that was reused by an unrelated process reads as alive: the lease then expires as usual.
 */
export function ownerAlive(owner: string | null, pid: number | null): boolean {
  if (owner === null || pid === null) return false;
  if (pid === process.pid) return liveWorkers.has(owner);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
