// Deterministic: executes one memory operation of a run (a read, a write, an update): the key
// is read under its lock and written in one store transaction with the operation's journal
// entry, so a replay sees what the first execution saw and a write happens once.
import { entryData, readEntryData } from "./entry-data.js";
import { ensureError } from "./errors.js";
import type { NewEntry } from "./journal.js";
import { encodeMemoryValue, type MemoryRecord } from "./memory.js";
import type { Op, OpScope } from "./op.js";
import { encodeError } from "./outcomes.js";
import { decodeValue } from "./serialize.js";

/** What the code asked of the key. */
export type MemoryAction =
  | { readonly kind: "get" }
  | { readonly kind: "set"; readonly encoded: string }
  | { readonly kind: "update"; readonly fn: (current: unknown) => unknown };

/** Thrown inside the transaction when the run halted meanwhile: roll back, write nothing. */
class Halted extends Error {}

/** Executes memory operation `op` on `namespace`/`key` live (it has no journal entry yet). */
export async function runMemory(
  scope: OpScope,
  op: Op,
  namespace: string,
  key: string,
  action: MemoryAction,
): Promise<void> {
  // Write-ahead: the transaction commits the run's queued entries first, then this one.
  let failure: Error | null = null;
  // Like a transactional step: one transaction at a time per run, and no other result reaches
  // the code while it is open, so that the code sees results in the journal's order.
  await scope.serially(async () => {
    const release = scope.holdSettlements();
    try {
      let written: NewEntry | null = null;
      await scope.port.transaction(async (_tx, memory) => {
        const current = await memory.read(namespace, key);
        let entry: NewEntry;
        if (action.kind === "get") {
          entry = readEntry(scope, op, namespace, key, current);
        } else {
          const encoded =
            action.kind === "set"
              ? action.encoded
              : encodeMemoryValue(
                  await action.fn(current === null ? undefined : decodeValue(current.value)),
                  namespace,
                  key,
                );
          if (scope.ended || !scope.isCurrent(op)) throw new Halted();
          const record = await memory.write({
            namespace,
            key,
            value: encoded,
            at: scope.port.clock.now(),
            runId: scope.runId,
            position: op.position,
            by: null,
          });
          entry = {
            type: "memory_written",
            at: scope.port.clock.now(),
            position: op.position,
            key: op.key,
            data: entryData.memory_written({
              namespace,
              key,
              version: record.version,
              value: encoded,
            }),
          };
        }
        if (scope.ended || !scope.isCurrent(op)) throw new Halted();
        written = entry;
        return [entry];
      });
      scope.countCommitted(1);
      // The code sees the value as the journal holds it, on the first run as on replay.
      const entry = written as NewEntry | null;
      if (entry === null) return;
      const value =
        entry.type === "memory_read"
          ? readEntryData(entry, "memory_read").value
          : readEntryData(entry, "memory_written").value;
      scope.settleLive(op, () => op.resolve(value), { first: true });
    } catch (e) {
      if (!(e instanceof Halted) && !scope.ended && scope.isCurrent(op)) failure = ensureError(e);
    } finally {
      release();
    }
  });
  if (failure !== null) settleFailure(scope, op, failure);
}

function readEntry(
  scope: OpScope,
  op: Op,
  namespace: string,
  key: string,
  current: MemoryRecord | null,
): NewEntry {
  return {
    type: "memory_read",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.memory_read({
      namespace,
      key,
      version: current?.version ?? 0,
      value: current?.value ?? null,
    }),
  };
}

/** The update's function threw or made a value that cannot be kept: journaled, so that a
 * replay throws the same error at the same point instead of running the function again. */
function settleFailure(scope: OpScope, op: Op, error: Error): void {
  const encoded = encodeError(error);
  scope.append({
    type: "memory_failed",
    at: scope.port.clock.now(),
    position: op.position,
    key: op.key,
    data: entryData.memory_failed({ error: encoded }),
  });
  const decoded = decodeValue(encoded);
  scope.settleLive(op, () => op.reject(decoded), { failed: true });
}
