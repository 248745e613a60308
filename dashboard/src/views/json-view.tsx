// Shows a JSON value readably; a large one is cut to its first characters with a button that
// shows the whole of it, so one big payload cannot freeze the page.
import { useState } from "preact/hooks";
import { formatBytes } from "../format.ts";

/** Characters shown of a value before it is cut. */
export const JSON_PREVIEW_CHARS_MAX = 4_000;

function pretty(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? "undefined";
  } catch {
    return "(a value that cannot be shown as JSON)";
  }
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  const [whole, setWhole] = useState(false);
  const text = pretty(value);
  const cut = !whole && text.length > JSON_PREVIEW_CHARS_MAX;
  return (
    <div>
      <pre class="json" aria-label={label} tabIndex={0}>
        {cut ? `${text.slice(0, JSON_PREVIEW_CHARS_MAX)}\n…` : text}
      </pre>
      {cut && (
        <button type="button" onClick={() => setWhole(true)}>
          Show all {formatBytes(new TextEncoder().encode(text).length)}
        </button>
      )}
    </div>
  );
}
