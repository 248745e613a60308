// Deterministic: budgets. Before each model call the agent compares what the run spent with
// what the call could cost, stops if it would go over, and caps the reply to what is left.
import { InvalidArgumentError } from "../core/errors.js";
import type { ApprovalOptions } from "../core/types.js";
import type { RunUsage } from "../core/usage.js";
import { BudgetExceededError } from "./errors.js";
import { BUDGET_OUTPUT_TOKENS_MIN } from "./limits.js";
import { estimateTokens, type ModelRequest } from "./messages.js";
import { priceOf, type Model, type Price } from "./model.js";

/**
 * A limit on what an agent run may use, in tokens (in plus out), in US dollars, or both.
 * The agent never starts a model call whose input (estimated from the last call's ratio of
 * reported to estimated tokens) plus a minimal reply would go over, and caps each reply's
 * tokens to what is left. At the limit it fails with `BudgetExceededError`, or, with
 * `onExceeded: "approve"`, pauses for a person to allow one more budget's worth.
 *
 * @example
 * ```ts
 * agent("scout", { model, budget: { usd: 2, onExceeded: "approve", approval: { approvers: ["ops"] } } });
 * ```
 */
export interface Budget {
  readonly tokens?: number;
  readonly usd?: number;
  /** At the limit: `"fail"` (default), or `"approve"` to ask a person for another budget. */
  readonly onExceeded?: "fail" | "approve";
  /** Who decides when `onExceeded` is `"approve"`, and how long they have. */
  readonly approval?: Omit<ApprovalOptions, "title" | "details">;
}

/** The limits of `budget` after `extensions` approved extensions: each adds one budget. */
export function extended(budget: Budget, extensions: number): Budget {
  const k = extensions + 1;
  return {
    ...(budget.tokens === undefined ? {} : { tokens: budget.tokens * k }),
    ...(budget.usd === undefined ? {} : { usd: budget.usd * k }),
  };
}

/** Checks a budget against the model that will spend it. */
export function checkBudget(budget: Budget, model: Model, what: string): void {
  for (const [key, value] of Object.entries(budget)) {
    if (key === "onExceeded") {
      if (value !== "fail" && value !== "approve")
        throw new InvalidArgumentError(`${what}: budget.onExceeded must be "fail" or "approve"`);
      continue;
    }
    if (key === "approval") {
      if (typeof value !== "object" || value === null)
        throw new InvalidArgumentError(`${what}: budget.approval must be approval options`);
      continue;
    }
    if (key !== "tokens" && key !== "usd") {
      throw new InvalidArgumentError(
        `${what}: budget has an unknown field '${key}' (use tokens, usd, onExceeded, approval)`,
      );
    }
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
      throw new InvalidArgumentError(
        `${what}: budget.${key} must be a number above 0, got ${String(value)}`,
      );
    }
  }
  if (budget.tokens === undefined && budget.usd === undefined) {
    throw new InvalidArgumentError(`${what}: a budget needs tokens, usd, or both`);
  }
  if (budget.usd !== undefined && priceOf(model.prices, model.model, model.model) === null) {
    throw new InvalidArgumentError(
      `${what}: a budget in usd needs a price for model '${model.model}'; pass prices to the model`,
    );
  }
}

/** Reported input tokens per estimated one, learnt from the run's last call. */
export interface Calibration {
  ratio: number;
}

/** The request to send under the budget: its reply capped to what is left. Throws when
 * even a minimal reply would go over. `who` names the agent and turn in the message. */
export function planCall(
  budget: Budget,
  spent: RunUsage,
  request: ModelRequest,
  model: Model,
  calibration: Calibration,
  who: string,
): ModelRequest {
  const inputTokens = Math.ceil(estimateTokens(request) * calibration.ratio);
  let outputMax = request.maxOutputTokens ?? Number.POSITIVE_INFINITY;
  const reasons: string[] = [];
  if (budget.tokens !== undefined) {
    const left = budget.tokens - spent.inputTokens - spent.outputTokens - inputTokens;
    outputMax = Math.min(outputMax, left);
    if (left < BUDGET_OUTPUT_TOKENS_MIN) {
      reasons.push(
        `it has used ${spent.inputTokens + spent.outputTokens} of its ${budget.tokens} tokens and the next call needs about ${inputTokens} for its input`,
      );
    }
  }
  if (budget.usd !== undefined) {
    const price = priceOf(model.prices, model.model, model.model) as Price;
    const left = budget.usd - spent.costUsd - (inputTokens * price.input) / 1e6;
    const tokens =
      price.output > 0 ? Math.floor((left * 1e6) / price.output) : Number.POSITIVE_INFINITY;
    outputMax = Math.min(outputMax, tokens);
    if (tokens < BUDGET_OUTPUT_TOKENS_MIN) {
      reasons.push(
        `it has spent $${spent.costUsd.toFixed(6)} of its $${budget.usd} and the next call's input costs about $${((inputTokens * price.input) / 1e6).toFixed(6)}`,
      );
    }
  }
  if (reasons.length > 0) {
    throw new BudgetExceededError(
      `${who} stopped before a model call that would exceed its budget: ${reasons.join("; ")}. ` +
        "Raise the budget, or give the agent a smaller task",
    );
  }
  return Number.isFinite(outputMax)
    ? { ...request, maxOutputTokens: Math.floor(outputMax) }
    : request;
}

/** Learns how the provider's counts compare with the estimate, from a call just made. */
export function calibrate(
  calibration: Calibration,
  request: ModelRequest,
  reportedInput: number,
): void {
  const estimate = estimateTokens(request);
  if (estimate > 0 && reportedInput > 0) calibration.ratio = Math.max(1, reportedInput / estimate);
}
