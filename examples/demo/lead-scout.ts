// The workflow of `npm run demo`: a lead-scouting agent. It searches a site for companies
// that build AI agents, fetches each company's page, has the model extract the facts, has it
// summarize them and draft an email to the best lead, waits for a person to approve the
// email, and sends it. Every step is journaled: a crash resumes at the step it interrupted,
// and a model call whose reply was recorded is never paid for again.
import { NonRetriableError, workflow } from "endure";
import { llm, scriptedModel, type Model, type ModelRequest } from "endure/ai";
import { modelFromEnv } from "../models.js";

/** The environment variable that tells the tools where the site is (set by the demo). */
export const SITE_ENV = "ENDURE_DEMO_SITE";

/** What the model extracts from a company's page. */
export interface Lead {
  readonly company: string;
  readonly employees: number;
  readonly city: string;
  readonly inProduction: boolean;
  readonly contact: string;
}

/** The email the agent proposes. */
export interface Outreach {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/** What a run returns. */
export interface ScoutResult {
  readonly leads: readonly Lead[];
  readonly best: string;
  readonly summary: string;
  readonly outreach: Outreach;
  readonly sent: boolean;
  /** The outbox's message id, when sent. */
  readonly messageId: string | null;
  /** Who approved or rejected the email. */
  readonly decidedBy: string | null;
}

const EXTRACT =
  "Extract facts about the company from the web page. Answer with JSON only: " +
  '{"company": string, "employees": number, "city": string, "inProduction": boolean ' +
  '(true if it runs AI agents in production), "contact": string (an email address)}.';
const SUMMARIZE =
  "You write for a company selling durable execution for AI agents. Given researched leads " +
  "as JSON and the chosen best lead, answer with JSON only: " +
  '{"summary": string (two sentences on the leads), "subject": string, "body": string ' +
  "(a short, friendly outreach email to the best lead)}.";

function siteUrl(path: string): string {
  const base = process.env[SITE_ENV];
  if (base === undefined || base === "") {
    throw new NonRetriableError(`${SITE_ENV} is not set: the demo sets it to its fixture site`);
  }
  return new URL(path, base).href;
}

async function http(path: string, signal: AbortSignal, init: RequestInit = {}): Promise<string> {
  const response = await fetch(siteUrl(path), { ...init, signal });
  const text = await response.text();
  // A 5xx is worth retrying (the step's policy retries it); any other failure is not.
  if (response.status >= 500) throw new Error(`${path} answered ${response.status}: ${text}`);
  if (!response.ok) throw new NonRetriableError(`${path} answered ${response.status}: ${text}`);
  return text;
}

/** The page's text, without its markup. */
function pageText(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The first JSON object in a reply (models sometimes wrap it in prose or a code fence). */
function json<T>(text: string, what: string): T {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  try {
    return JSON.parse(text.slice(start, end + 1)) as T;
  } catch {
    throw new NonRetriableError(`the model's ${what} is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The best lead: running agents in production, then the largest team. Plain code, no I/O. */
function pickBest(leads: readonly Lead[]): Lead {
  const ranked = [...leads].sort(
    (a, b) => Number(b.inProduction) - Number(a.inProduction) || b.employees - a.employees,
  );
  const best = ranked[0];
  if (best === undefined) throw new NonRetriableError("the search found no companies");
  return best;
}

/** The lead-scouting workflow, calling `model` for extraction and the summary. */
export function leadScout(model: Model) {
  return workflow("lead-scout", async (ctx, input: { query: string }) => {
    const hits = await ctx.step("search", async ({ signal }) => {
      const found = await http(`/search?q=${encodeURIComponent(input.query)}`, signal);
      return JSON.parse(found) as Array<{ name: string; url: string }>;
    });
    const leads: Lead[] = [];
    for (const hit of hits) {
      const page = await ctx.step(
        `fetch ${hit.name}`,
        async ({ signal }) => pageText(await http(hit.url, signal)),
        { retries: 3, backoff: { initial: "300ms" }, timeout: "10s" },
      );
      const reply = await llm(ctx, `extract ${hit.name}`, model, {
        system: EXTRACT,
        messages: [{ role: "user", content: page }],
      });
      leads.push(json<Lead>(reply.text, `extraction of ${hit.name}`));
    }
    const best = pickBest(leads);
    const draft = await llm(ctx, "summarize", model, {
      system: SUMMARIZE,
      messages: [{ role: "user", content: JSON.stringify({ leads, best: best.company }) }],
    });
    const { summary, subject, body } = json<{ summary: string; subject: string; body: string }>(
      draft.text,
      "summary",
    );
    const outreach: Outreach = { to: best.contact, subject, body };
    const decision = await ctx.approval("outreach email", {
      title: `Send the outreach email to ${best.contact}?`,
      details: outreach,
      timeout: "7d",
    });
    const result = { leads, best: best.company, summary, outreach, decidedBy: decision.by };
    if (!decision.approved) return { ...result, sent: false, messageId: null };
    const messageId = await ctx.step("send outreach", async ({ idempotencyKey, signal }) => {
      // The outbox keeps one email per key: a retry or a recovery never sends it twice.
      const answer = await http("/outbox", signal, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
        body: JSON.stringify(outreach),
      });
      return (JSON.parse(answer) as { id: string }).id;
    });
    return { ...result, sent: true, messageId } satisfies ScoutResult;
  });
}

/** Tokens of a text, as the offline model counts them (four characters a token). */
const tokens = (text: string): number => Math.ceil(text.length / 4);

/** What the offline model answers to an extraction: the facts, read off the page. */
function extractOffline(page: string): Lead {
  const company = /^(.+?) A team of/.exec(page)?.[1] ?? "unknown";
  return {
    company,
    employees: Number(/A team of (\d+) people/.exec(page)?.[1] ?? 0),
    city: /based in ([^.]+)\./.exec(page)?.[1] ?? "unknown",
    inProduction: /in production/.test(page),
    contact: /Contact: (\S+@\S+)/.exec(page)?.[1] ?? "unknown",
  };
}

/** What the offline model answers to the summary. */
function summarizeOffline(facts: { leads: Lead[]; best: string }): object {
  const best = facts.leads.find((l) => l.company === facts.best);
  const live = facts.leads.filter((l) => l.inProduction).map((l) => l.company);
  return {
    summary:
      `${facts.leads.length} companies build AI agents; ${live.join(" and ")} run them in ` +
      `production. ${facts.best} (${best?.employees ?? "?"} people, ${best?.city ?? "?"}) is the ` +
      "strongest lead: its agents touch several systems and must not lose work.",
    subject: "Agents that survive crashes",
    body:
      `Hi ${facts.best} team, your agents work across several systems: endure journals every ` +
      "step, so a crash resumes where it stopped and no action happens twice. Open to a " +
      "20-minute call next week?",
  };
}

/**
 * The offline model: answers extraction and summary requests the way a capable model would,
 * from the request's own text, after `delayMs` (to make the demo watchable).
 */
export function offlineModel(delayMs = 0): Model {
  const answer = (request: ModelRequest) => {
    const input = request.messages.map((m) => m.content).join("\n");
    const text =
      request.system === EXTRACT
        ? JSON.stringify(extractOffline(input))
        : JSON.stringify(summarizeOffline(JSON.parse(input) as { leads: Lead[]; best: string }));
    const usage = {
      inputTokens: tokens((request.system ?? "") + input),
      outputTokens: tokens(text),
    };
    return { text, usage };
  };
  return scriptedModel(answer, { model: "offline-scout", delayMs });
}

/** The workflow on the model the environment names, else offline (for `endure dev`). */
export const scout = leadScout(modelFromEnv(process.env, offlineModel()).model);
