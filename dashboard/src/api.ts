// The dashboard's one door to the server: endure/client with the signed-in token, the
// caller's role, and what each role may do (the API refuses the rest regardless).
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { createClient, type EndureClient, type JournalEntryView } from "endure/client";
import { toMs } from "./format.ts";
import type { Entry } from "./timeline.ts";

export type Role = "viewer" | "approver" | "operator" | "admin";

/** The signed-in caller. */
export interface Session {
  readonly client: EndureClient;
  readonly name: string;
  readonly role: Role;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, approver: 1, operator: 2, admin: 3 };

/** What the UI offers, and the least role the API accepts for it. */
export const ACTION_ROLES = {
  decide: "approver",
  cancel: "operator",
  retry: "operator",
  resume: "operator",
  signal: "operator",
  sendEvent: "operator",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTION_ROLES;

/** True when the session's role may do `action`. */
export function can(session: Session, action: Action): boolean {
  return RANK[session.role] >= RANK[ACTION_ROLES[action]];
}

/** Why an action is offered disabled, or undefined when it is allowed. */
export function refusal(session: Session, action: Action): string | undefined {
  return can(session, action)
    ? undefined
    : `Your token's role (${session.role}) may not do this; it needs ${ACTION_ROLES[action]} or more.`;
}

/** Checks `token` with the server; the session, or the message to show. */
export async function openSession(token: string): Promise<Session | { error: string }> {
  const client = createClient({ url: location.origin, token });
  try {
    const me = await client.whoami();
    return { client, name: me.name, role: me.role };
  } catch (e) {
    const status = (e as { status?: unknown }).status;
    if (status === 401) return { error: "The server refused this token. Check it and try again." };
    return { error: `The server could not be reached: ${messageOf(e)}` };
  }
}

/** A readable message for an error the client threw. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : "something went wrong";
}

/** True when the server answered 401: the session's token is no longer accepted. */
export function isUnauthorized(e: unknown): boolean {
  return (e as { status?: unknown } | null)?.status === 401;
}

/** A journal entry with its time in milliseconds. */
export function toEntry(view: JournalEntryView): Entry {
  return { ...view, at: toMs(view.at) ?? 0 };
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session (views below the sign-in screen only). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside a signed-in page");
  return session;
}
