// An agent run's output stream shown as the conversation it is, growing as parts arrive.
import { useEffect, useState } from "preact/hooks";
import { messageOf, useSession } from "../api.ts";
import { addPart, emptyConversation, type Conversation, type Item } from "../conversation.ts";
import { STREAM_PARTS_SHOWN_MAX } from "../limits.ts";
import { JsonView } from "./json-view.tsx";

export function ConversationView({ runId }: { runId: string }) {
  const { client } = useSession();
  const [conv, setConv] = useState<Conversation>(emptyConversation);
  const [parts, setParts] = useState(0);
  const [state, setState] = useState<string>("following");
  useEffect(() => {
    const abort = new AbortController();
    setConv(emptyConversation());
    setParts(0);
    setState("following");
    void (async () => {
      let n = 0;
      try {
        for await (const chunk of client.followStream(runId, { signal: abort.signal })) {
          if (++n > STREAM_PARTS_SHOWN_MAX) break;
          setConv((c) => addPart(c, chunk.part));
          setParts(n);
        }
        if (!abort.signal.aborted) setState("ended");
      } catch (e) {
        if (!abort.signal.aborted) setState(messageOf(e));
      }
    })();
    return () => abort.abort();
  }, [client, runId]);
  return (
    <section aria-label="Conversation">
      <p class="muted" role="status" aria-live="polite">
        {state === "following"
          ? `● following the output stream (${parts} parts)`
          : state === "ended"
            ? `The stream has ended (${parts} parts).`
            : `The stream stopped: ${state}`}
      </p>
      {conv.items.length === 0 && (
        <p class="muted">Nothing was written to this run's output stream yet.</p>
      )}
      <div class="chat" aria-live="polite">
        {conv.items.map((item) => (
          <ItemView item={item} />
        ))}
      </div>
    </section>
  );
}

function ItemView({ item }: { item: Item }) {
  switch (item.kind) {
    case "text":
      return (
        <div class="msg assistant">
          <div class="who">assistant</div>
          <p>{item.text}</p>
        </div>
      );
    case "tool":
      return (
        <div class="msg tool">
          <div class="who">
            tool {item.toolName} · {item.state}
          </div>
          <JsonView value={item.input} label={`Input of tool ${item.toolName}`} />
          {item.output !== undefined && (
            <JsonView value={item.output} label={`Output of tool ${item.toolName}`} />
          )}
        </div>
      );
    case "approval":
      return (
        <div class="msg approval">
          <div class="who">approval asked</div>
          <p>{item.approvalId}</p>
        </div>
      );
    case "error":
      return (
        <div class="msg error">
          <div class="who">error</div>
          <p>{item.text}</p>
        </div>
      );
    case "step":
      return (
        <div class="muted" aria-hidden="true">
          — turn {item.n} —
        </div>
      );
    case "data":
      return (
        <div class="msg tool">
          <div class="who">{item.type}</div>
          <JsonView value={item.data} label={item.type} />
        </div>
      );
  }
}
