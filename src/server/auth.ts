// Who is calling: bearer tokens compared in constant time, and the roles that may use a route.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InvalidArgumentError } from "../core/errors.js";
import { forbidden, unauthorized } from "./errors.js";
import { TOKEN_LENGTH_MIN } from "./limits.js";

/** What a token may do, from least to most: read; also decide approvals; also act on runs; all. */
export type Role = "viewer" | "approver" | "operator" | "admin";

const RANK: Readonly<Record<Role, number>> = { viewer: 0, approver: 1, operator: 2, admin: 3 };

/** One configured token: `name` is the caller's identity (recorded as an approval's `by`). */
export interface Token {
  readonly name: string;
  readonly token: string;
  readonly role: Role;
}

/** The caller of a request, once its token was recognized. */
export interface Caller {
  readonly name: string;
  readonly role: Role;
}

const tokenSchema = z.strictObject({
  name: z.string().min(1).max(200),
  token: z.string().min(TOKEN_LENGTH_MIN),
  role: z.enum(["viewer", "approver", "operator", "admin"]),
});

/**
 * Checks tokens given as JSON text (a tokens file, or an environment variable):
 * `[{ "name": "maria@acme.io", "token": "...", "role": "admin" }]`.
 *
 * @example
 * ```ts
 * const tokens = parseTokens(process.env.ENDURE_TOKENS ?? "[]", "ENDURE_TOKENS");
 * ```
 */
export function parseTokens(text: string, source: string): Token[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(
      `${source} is not JSON (${(e as Error).message}); write [{ "name", "token", "role" }]`,
    );
  }
  const parsed = z.array(tokenSchema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join(".") ?? "";
    throw new InvalidArgumentError(
      `${source} is not a list of tokens: at [${at}] ${issue?.message ?? "invalid"}; each token is ` +
        `{ "name", "token" (at least ${TOKEN_LENGTH_MIN} characters), "role": admin|operator|approver|viewer }`,
    );
  }
  const seen = new Set<string>();
  for (const t of parsed.data) {
    if (seen.has(t.token))
      throw new InvalidArgumentError(`${source} lists one token twice (for '${t.name}')`);
    seen.add(t.token);
  }
  return parsed.data;
}

/** Reads and checks a tokens file (see {@link parseTokens}). */
export function readTokensFile(path: string): Token[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InvalidArgumentError(`cannot read the tokens file ${path}: ${(e as Error).message}`);
  }
  return parseTokens(text, `tokens file ${path}`);
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** Recognizes callers by their bearer token. */
export class Authenticator {
  private readonly known: readonly { digest: Buffer; caller: Caller }[];

  constructor(tokens: readonly Token[]) {
    this.known = tokens.map((t) => ({
      digest: digest(t.token),
      caller: { name: t.name, role: t.role },
    }));
  }

  /** True when no token is configured: every caller is the local admin (loopback only). */
  get open(): boolean {
    return this.known.length === 0;
  }

  /** The caller of a request with this `Authorization` header; throws 401 when unknown. */
  caller(header: string | undefined): Caller {
    if (this.open) return { name: "local", role: "admin" };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (match === null)
      throw unauthorized("this route needs a bearer token: send 'Authorization: Bearer <token>'");
    // Hashing gives equal lengths; every token is compared, so timing says nothing of which.
    const given = digest(match[1] ?? "");
    let found: Caller | null = null;
    for (const k of this.known) if (timingSafeEqual(given, k.digest)) found = k.caller;
    if (found === null) throw unauthorized("the bearer token is not one this server knows");
    return found;
  }
}

/** Throws 403 unless `caller` has at least `role`. */
export function requireRole(caller: Caller, role: Role): void {
  if (RANK[caller.role] < RANK[role]) {
    throw forbidden(
      `the token of '${caller.name}' has the role ${caller.role}; this route needs ${role} or above`,
    );
  }
}
