// The actions on one run: cancel with a reason, retry, resume, signal, send an event; each
// offered when the run's status allows it, disabled (with the reason) when the token's role
// does not, and confirmed where it cannot be undone.
import { useState } from "preact/hooks";
import type { RunView } from "endure/client";
import { refusal, useSession, type Action } from "../api.ts";
import { ActionDialog, jsonField, textField } from "./dialog.tsx";

type Open = "cancel" | "retry" | "resume" | "signal" | "event" | null;

export function RunActions({
  run,
  onDone,
  eventName,
}: {
  run: RunView;
  onDone: () => void;
  eventName?: string | undefined;
}) {
  const session = useSession();
  const { client } = session;
  const [open, setOpen] = useState<Open>(null);
  const ended = ["completed", "failed", "cancelled", "timed_out"].includes(run.status);
  const button = (action: Action, which: Exclude<Open, null>, label: string, shown: boolean) =>
    shown && (
      <button
        type="button"
        disabled={refusal(session, action) !== undefined}
        title={refusal(session, action)}
        onClick={() => setOpen(which)}
      >
        {label}
      </button>
    );
  const close = (): void => setOpen(null);
  const done = async (p: Promise<unknown>): Promise<void> => {
    await p;
    onDone();
  };
  return (
    <div class="actions" role="group" aria-label="Actions on this run">
      {button("cancel", "cancel", "Cancel run…", !ended)}
      {button("retry", "retry", "Retry…", run.status === "failed")}
      {button("resume", "resume", "Resume", run.status === "paused")}
      {button("signal", "signal", "Send signal…", !ended)}
      {button("sendEvent", "event", "Send event…", true)}
      {open === "cancel" && (
        <ActionDialog
          title={`Cancel run ${run.id}?`}
          confirm="Cancel the run"
          danger
          onClose={close}
          onConfirm={(f) => done(client.cancel(run.id, textField(f, "reason") || undefined))}
        >
          <p>
            A cancelled run cannot be started again under this id. Steps already done stay done.
          </p>
          <label>
            Reason (kept in the journal)
            <input name="reason" required placeholder="customer withdrew the order" />
          </label>
        </ActionDialog>
      )}
      {open === "retry" && (
        <ActionDialog
          title={`Retry run ${run.id}?`}
          confirm="Retry from the failed step"
          onClose={close}
          onConfirm={() => done(client.retry(run.id))}
        >
          <p>The run goes on from its failed step; the steps that succeeded are not run again.</p>
        </ActionDialog>
      )}
      {open === "resume" && (
        <ActionDialog
          title={`Resume run ${run.id}?`}
          confirm="Resume"
          onClose={close}
          onConfirm={() => done(client.resume(run.id))}
        >
          <p>
            The run was paused{run.pausedReason === null ? "" : ` (${run.pausedReason})`}; it
            becomes runnable again.
          </p>
        </ActionDialog>
      )}
      {open === "signal" && (
        <ActionDialog
          title={`Send a signal to ${run.id}`}
          confirm="Send signal"
          onClose={close}
          onConfirm={(f) =>
            done(client.signal(run.id, textField(f, "name"), jsonField(f, "data", "Data")))
          }
        >
          <label>
            Signal name
            <input name="name" required />
          </label>
          <label>
            Data (JSON, optional)
            <textarea name="data" />
          </label>
        </ActionDialog>
      )}
      {open === "event" && <EventDialog onClose={close} onDone={onDone} name={eventName} />}
    </div>
  );
}

/** Sends an event (it wakes every wait it matches, in any run). */
export function EventDialog({
  onClose,
  onDone,
  name,
}: {
  onClose: () => void;
  onDone: () => void;
  name?: string | undefined;
}) {
  const { client } = useSession();
  return (
    <ActionDialog
      title="Send an event"
      confirm="Send event"
      onClose={onClose}
      onConfirm={async (f) => {
        const id = textField(f, "id");
        const data = jsonField(f, "data", "Data");
        await client.sendEvent({
          name: textField(f, "name"),
          ...(data === undefined ? {} : { data }),
          ...(id === "" ? {} : { id }),
        });
        onDone();
      }}
    >
      <p class="muted">
        An event wakes every run waiting for it whose match it fits. Sending the same id twice
        delivers it once.
      </p>
      <label>
        Event name
        <input name="name" required defaultValue={name ?? ""} />
      </label>
      <label>
        Data (JSON, optional)
        <textarea name="data" />
      </label>
      <label>
        Id (optional, makes the send idempotent)
        <input name="id" />
      </label>
    </ActionDialog>
  );
}
