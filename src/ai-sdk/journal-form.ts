// What of an AI SDK model result goes into the journal: everything the SDK reads back, minus
// raw HTTP bodies and headers, which can be large and are not needed to rebuild the result.
import type { Usage } from "../core/usage.js";
import { costUsd, priceOf, type PriceTable } from "../ai/model.js";
import type { SdkGenerateResult, SdkStreamPart, SdkUsage } from "./sdk-types.js";

/** A generate result as journaled. */
export function journalGenerate(result: SdkGenerateResult): SdkGenerateResult {
  const { request: _request, response, ...rest } = result;
  return {
    ...rest,
    ...(response === undefined
      ? {}
      : {
          response: {
            ...(response.id === undefined ? {} : { id: response.id }),
            ...(response.timestamp === undefined ? {} : { timestamp: response.timestamp }),
            ...(response.modelId === undefined ? {} : { modelId: response.modelId }),
          },
        }),
  };
}

/** A stream part as journaled: raw provider chunks are dropped. */
export function journalPart(part: SdkStreamPart): SdkStreamPart | null {
  return part.type === "raw" ? null : part;
}

/** The run-usage of one call, priced by the model's id. */
export function usageOfCall(
  usage: SdkUsage | undefined,
  modelId: string,
  prices: PriceTable | undefined,
): Usage {
  const inputTokens = usage?.inputTokens.total ?? 0;
  const outputTokens = usage?.outputTokens.total ?? 0;
  return {
    inputTokens,
    outputTokens,
    costUsd: costUsd(priceOf(prices, modelId, modelId), inputTokens, outputTokens),
  };
}
