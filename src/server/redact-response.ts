// The engine's `redact` fields masked in what the server answers: JSON bodies (every route,
// the A2A endpoints, errors) and the JSON data lines of Server-Sent Events, as they stream.
import type { Engine } from "../engine/engine.js";

/** Whether the engine masks anything: its redaction returns the very value when it does not. */
export function redacts(engine: Engine): boolean {
  const probe = {};
  return engine.redact(probe) !== probe;
}

/** `response` with the engine's redacted fields masked. */
export async function redactResponse(response: Response, engine: Engine): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  if (type.startsWith("application/json")) {
    const text = await response.text();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return new Response(text, { status: response.status, headers });
    }
    return new Response(JSON.stringify(engine.redact(value)), {
      status: response.status,
      headers,
    });
  }
  if (type.startsWith("text/event-stream") && response.body !== null) {
    const body = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(dataLines((line) => redactLine(line, engine)))
      .pipeThrough(new TextEncoderStream());
    return new Response(body, { status: response.status, headers });
  }
  return response;
}

/** An SSE `data:` line holding JSON, masked; any other line as it is. */
function redactLine(line: string, engine: Engine): string {
  if (!line.startsWith("data:")) return line;
  const text = line.slice(line.startsWith("data: ") ? 6 : 5);
  try {
    return `data: ${JSON.stringify(engine.redact(JSON.parse(text)))}`;
  } catch {
    return line;
  }
}

/** Splits a text stream into lines (kept with their ends) and maps each whole line. */
function dataLines(map: (line: string) => string): TransformStream<string, string> {
  let rest = "";
  return new TransformStream<string, string>({
    transform(chunk, controller) {
      rest += chunk;
      let end = rest.indexOf("\n");
      while (end !== -1) {
        const line = rest.slice(0, end);
        const cr = line.endsWith("\r");
        controller.enqueue(`${map(cr ? line.slice(0, -1) : line)}${cr ? "\r\n" : "\n"}`);
        rest = rest.slice(end + 1);
        end = rest.indexOf("\n");
      }
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(map(rest));
    },
  });
}
