// The fixture site the demo's tools talk to, served on 127.0.0.1: a search endpoint, one page
// per company (one answers 503 Service Unavailable the first time it is asked, to show a
// retry), and an outbox that accepts outreach emails and keeps one per Idempotency-Key.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The companies the site knows. */
export const COMPANIES = [
  {
    slug: "parcelbird",
    name: "Parcelbird",
    employees: 120,
    city: "Rotterdam",
    agents: "Runs AI agents in production that rebook delayed parcels with carriers.",
    contact: "founders@parcelbird.example",
  },
  {
    slug: "quillstack",
    name: "Quillstack",
    employees: 45,
    city: "Lyon",
    agents: "Builds contract-review agents; a pilot with two law firms.",
    contact: "hello@quillstack.example",
  },
  {
    slug: "harbor-labs",
    name: "Harbor Labs",
    employees: 300,
    city: "Austin",
    agents: "Support agents that answer tickets across three legacy systems, in production.",
    contact: "partnerships@harborlabs.example",
  },
] as const;

/** The page that answers 503 the first time: its fetch is retried. */
export const FLAKY_PAGE = "/companies/quillstack";

/** An email the outbox accepted. */
export interface OutboxMessage {
  readonly id: string;
  readonly key: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/** A running fixture site. */
export interface FixtureSite {
  readonly url: string;
  /** Emails accepted, one per idempotency key. */
  readonly outbox: readonly OutboxMessage[];
  /** POSTs to the outbox, repeats included. */
  readonly outboxRequests: () => number;
  close(): Promise<void>;
}

function page(c: (typeof COMPANIES)[number]): string {
  return `<!doctype html><html><head><title>${c.name}</title></head><body>
<h1>${c.name}</h1>
<p>A team of ${c.employees} people based in ${c.city}.</p>
<p>${c.agents}</p>
<p>Contact: <a href="mailto:${c.contact}">${c.contact}</a></p>
</body></html>`;
}

/** Serves the site on 127.0.0.1 (any free port). `delayMs` slows each answer down. */
export async function startSite(options: { delayMs?: number } = {}): Promise<FixtureSite> {
  const delayMs = options.delayMs ?? 0;
  const outbox: OutboxMessage[] = [];
  let outboxRequests = 0;
  let flakyServed = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (status: number, type: string, body: string): void => {
      setTimeout(() => {
        res.writeHead(status, { "content-type": type });
        res.end(body);
      }, delayMs);
    };
    if (req.method === "GET" && url.pathname === "/search") {
      const q = (url.searchParams.get("q") ?? "").toLowerCase();
      const hits = COMPANIES.filter((c) =>
        q.split(/\s+/).some((w) => w.length > 2 && c.agents.toLowerCase().includes(w)),
      ).map((c) => ({ name: c.name, url: `/companies/${c.slug}` }));
      return send(200, "application/json", JSON.stringify(hits));
    }
    const company = COMPANIES.find((c) => url.pathname === `/companies/${c.slug}`);
    if (req.method === "GET" && company !== undefined) {
      if (url.pathname === FLAKY_PAGE && !flakyServed) {
        flakyServed = true;
        return send(503, "text/plain", "busy, try again");
      }
      return send(200, "text/html", page(company));
    }
    if (req.method === "POST" && url.pathname === "/outbox") {
      outboxRequests += 1;
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        const key = String(req.headers["idempotency-key"] ?? "");
        if (key === "") return send(400, "text/plain", "an Idempotency-Key header is required");
        let message = outbox.find((m) => m.key === key);
        if (message === undefined) {
          const mail = JSON.parse(body) as { to: string; subject: string; body: string };
          message = { id: `msg-${outbox.length + 1}`, key, ...mail };
          outbox.push(message);
        }
        send(200, "application/json", JSON.stringify({ id: message.id }));
      });
      return;
    }
    send(404, "text/plain", "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    outbox,
    outboxRequests: () => outboxRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
