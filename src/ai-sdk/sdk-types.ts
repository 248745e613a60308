// The AI SDK types endure/ai-sdk works with, derived from what the `ai` package exports so
// that nothing depends on its internal packages.
import type { LanguageModelMiddleware } from "ai";

type WrapGenerate = NonNullable<LanguageModelMiddleware["wrapGenerate"]>;
type WrapStream = NonNullable<LanguageModelMiddleware["wrapStream"]>;

/** A language model of the AI SDK's current provider interface (V3). */
export type SdkModel = Parameters<WrapGenerate>[0]["model"];
/** What a model's generate call returns. */
export type SdkGenerateResult = Awaited<ReturnType<WrapGenerate>>;
/** What a model's stream call returns. */
export type SdkStreamResult = Awaited<ReturnType<WrapStream>>;
/** One part of a model's stream. */
export type SdkStreamPart = SdkStreamResult["stream"] extends ReadableStream<infer P> ? P : never;
/** The usage a provider reports. */
export type SdkUsage = SdkGenerateResult["usage"];
