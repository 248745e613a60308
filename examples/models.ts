// The model the examples use: a real one when the environment names one, else the offline
// model the example brings. OPENAI_BASE_URL / OPENAI_API_KEY (and OPENAI_MODEL) pick any
// Chat Completions endpoint; ANTHROPIC_API_KEY (and ANTHROPIC_MODEL, ANTHROPIC_BASE_URL)
// picks Anthropic's Messages API.
import { anthropic, openaiCompatible, type Model } from "endure/ai";

/** A model and how to name it to a person. */
export interface PickedModel {
  readonly model: Model;
  readonly label: string;
}

/** A real model when `env` names one, else `offline` (labelled `offlineLabel`). */
export function modelFromEnv(
  env: NodeJS.ProcessEnv,
  offline: Model,
  offlineLabel = "the offline scripted model",
): PickedModel {
  if (env["OPENAI_API_KEY"] !== undefined || env["OPENAI_BASE_URL"] !== undefined) {
    const name = env["OPENAI_MODEL"] ?? "gpt-4.1-mini";
    return {
      model: openaiCompatible({
        baseURL: env["OPENAI_BASE_URL"],
        apiKey: env["OPENAI_API_KEY"],
        model: name,
      }),
      label: `${name} at ${env["OPENAI_BASE_URL"] ?? "api.openai.com"}`,
    };
  }
  if (env["ANTHROPIC_API_KEY"] !== undefined) {
    const name = env["ANTHROPIC_MODEL"] ?? "claude-sonnet-4-5";
    return {
      model: anthropic({
        baseURL: env["ANTHROPIC_BASE_URL"],
        apiKey: env["ANTHROPIC_API_KEY"],
        model: name,
      }),
      label: `${name} (Anthropic)`,
    };
  }
  return { model: offline, label: offlineLabel };
}
