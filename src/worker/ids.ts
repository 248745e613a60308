// Identifiers: run ids that sort by creation time, and worker ids that name their process.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** A new run id such as `run_01jd8k2m3n4p5q6r7s8t9v0w`: time-ordered, 128 bits of randomness. */
export function newRunId(nowMs: number): string {
  return `run_${nowMs.toString(36).padStart(10, "0")}${randomBytes(10).toString("hex")}`;
}

/** A worker id unique to this engine instance: host, process and a random suffix. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** A new event id such as `evt_01jd8k2m3n4p5q6r7s8t9v0w`: time-ordered, random. */
export function newEventId(nowMs: number): string {
  return `evt_${nowMs.toString(36).padStart(10, "0")}${randomBytes(10).toString("hex")}`;
}
