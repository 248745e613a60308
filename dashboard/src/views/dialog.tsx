// A modal form (the native <dialog>: focus kept inside, Escape closes) for an action that
// needs input or a confirmation.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { messageOf } from "../api.ts";

export interface ActionDialogProps {
  readonly title: string;
  readonly confirm: string;
  readonly danger?: boolean;
  readonly onClose: () => void;
  /** Does the action; the dialog closes when it resolves and shows the error when it throws. */
  readonly onConfirm: (form: FormData) => Promise<void>;
  readonly children?: ComponentChildren;
}

export function ActionDialog({
  title,
  confirm,
  danger,
  onClose,
  onConfirm,
  children,
}: ActionDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      await onConfirm(new FormData(e.currentTarget as HTMLFormElement));
      onClose();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="dialog-title">
      <form method="dialog" onSubmit={(e) => void submit(e)}>
        <h2 id="dialog-title">{title}</h2>
        {children}
        {error !== null && (
          <p class="error-box" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class={danger === true ? "danger" : "primary"} disabled={busy}>
            {confirm}
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A text field of a form, trimmed ("" when absent). */
export function textField(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** Reads an optional JSON field of a form; throws a message naming the field when it is not JSON. */
export function jsonField(form: FormData, name: string, label: string): unknown {
  const text = textField(form, name);
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${label} is not JSON; write for example {"ok": true}, or leave it empty.`);
  }
}
