// A run's status as a labelled pill.
export function Status({ status }: { status: string }) {
  return <span class={`status ${status}`}>{status.replace("_", " ")}</span>;
}
