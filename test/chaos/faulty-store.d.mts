// Types of faulty-store.mjs, for the TypeScript side of the chaos harness.
import type { Store } from "endure";

export function rng(seed: number): () => number;
export function withFaults(
  store: Store,
  options: { rate: number; seed: number; onFault: (op: string) => void },
): Store;
export function broken(store: Store, mode: string, onLie: (what: string) => void): Store;
