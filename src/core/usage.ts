// Deterministic: what metered steps (model calls) used, and how it adds up per run.

/** Resources one step used: tokens in and out, and what they cost. */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Cost in US dollars, from the price table of the model that was called. */
  readonly costUsd: number;
  /** The model that answered, for traces (`gen_ai.request.model`). */
  readonly model?: string;
  /** Who served it (`openai-compatible`, `anthropic`, ...), for traces (`gen_ai.system`). */
  readonly system?: string;
}

/** A run's totals over its metered steps. */
export interface RunUsage extends Usage {
  /** Metered steps that succeeded (model calls). */
  readonly calls: number;
}

/** Totals of a run that metered nothing yet. */
export const NO_USAGE: RunUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  calls: 0,
});

/** Fills missing fields with 0; null when a field is not a finite number of at least 0. */
export function normalizeUsage(value: unknown): Usage | null {
  if (typeof value !== "object" || value === null) return null;
  const u = value as Partial<Record<keyof Usage, unknown>>;
  const field = (v: unknown): number | null =>
    v === undefined ? 0 : typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null;
  const inputTokens = field(u.inputTokens);
  const outputTokens = field(u.outputTokens);
  const costUsd = field(u.costUsd);
  if (inputTokens === null || outputTokens === null || costUsd === null) return null;
  const named = value as { model?: unknown; system?: unknown };
  return {
    inputTokens,
    outputTokens,
    costUsd,
    ...(typeof named.model === "string" ? { model: named.model } : {}),
    ...(typeof named.system === "string" ? { system: named.system } : {}),
  };
}

/** Adds a step's usage to running totals. */
export function addUsage(total: RunUsage, step: Usage): RunUsage {
  return {
    inputTokens: total.inputTokens + step.inputTokens,
    outputTokens: total.outputTokens + step.outputTokens,
    costUsd: total.costUsd + step.costUsd,
    calls: total.calls + 1,
  };
}
