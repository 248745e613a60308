// Signed webhooks: a sender signs `<timestamp>.<body>` with HMAC-SHA256 and its own secret,
// and sends `Endure-Signature: t=<unix seconds>,v1=<hex>`. The timestamp bounds replays.
import { createHmac, timingSafeEqual } from "node:crypto";
import { RequestError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";

/** The header a signed webhook carries. */
export const SIGNATURE_HEADER = "endure-signature";

/**
 * The `Endure-Signature` header value for `body`, as a sender computes it.
 *
 * @example
 * ```ts
 * const body = JSON.stringify({ name: "crm.lead_updated", data: lead, id: delivery.id });
 * await fetch(`${url}/v1/webhooks/crm`, {
 *   method: "POST", body, headers: { "endure-signature": signWebhook(secret, body) },
 * });
 * ```
 */
export function signWebhook(secret: string, body: string, atMs: number = Date.now()): string {
  const t = Math.floor(atMs / 1000);
  return `t=${t},v1=${hmac(secret, `${t}.${body}`)}`;
}

const hmac = (secret: string, text: string): string =>
  createHmac("sha256", secret).update(text).digest("hex");

const refused = (why: string): RequestError =>
  new RequestError("signature_invalid", 401, `the webhook signature was refused: ${why}`);

/** Throws 401 unless `header` signs `body` for `source` within its tolerance of `nowMs`. */
export function verifyWebhook(
  webhooks: ResolvedOptions["webhooks"],
  source: string,
  header: string | null,
  body: string,
  nowMs: number,
): void {
  const config = Object.hasOwn(webhooks, source) ? webhooks[source] : undefined;
  const parts = new Map(
    (header ?? "")
      .split(",")
      .map((p) => [p.slice(0, p.indexOf("=")).trim(), p.slice(p.indexOf("=") + 1)]),
  );
  const t = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (config === undefined || !Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(given))
    throw refused(`send '${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">'`);
  const expected = Buffer.from(hmac(config.secret, `${t}.${body}`), "hex");
  if (!timingSafeEqual(expected, Buffer.from(given, "hex")))
    throw refused("it does not match the body and the source's secret");
  if (Math.abs(nowMs - t * 1000) > config.toleranceMs)
    throw refused(
      `its timestamp is more than ${config.toleranceMs / 1000}s from the server's clock (a replay, or a skewed clock)`,
    );
}
