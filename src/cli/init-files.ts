// The starter project `endure init` writes: a workflow, a script that runs it, a test on
// virtual time with endure/testing, and the package.json scripts that run them. The pack
// test installs the packed package into a scratch project, runs init there, type-checks the
// result with tsc --strict and runs the test, so these texts cannot go stale unnoticed.

/** Files of the starter, by path relative to the project; init refuses to overwrite any. */
export const STARTER_FILES: Readonly<Record<string, string>> = {
  "src/workflows.ts": `// Your workflows. Each step's result is journaled before the code goes on, so a run survives
// crashes and restarts, resumes where it stopped, and never repeats a finished step.
//   npm start      runs one (src/main.ts)
//   npm test       tests them on virtual time (test/workflows.test.ts)
//   npm run dev    serves them with the HTTP API and the dashboard on http://127.0.0.1:4100
import { workflow } from "endure";

/** Welcomes a new user: creates the account, asks a person whether to offer a call (for up
 * to 3 days), and sends the welcome. */
export const welcome = workflow("welcome", async (ctx, input: { email: string }) => {
  const account = await ctx.step("create account", ({ idempotencyKey }) => {
    // Call your API here and pass it idempotencyKey: a retry after a crash creates no second
    // account, because the key is the same in every attempt of this step.
    return { id: \`acct-\${ctx.runId}\`, email: input.email, key: idempotencyKey };
  });
  // A durable pause: the run can wait days for the decision without holding memory, and
  // resume in another process.
  const call = await ctx.approval("offer a call", {
    title: \`Offer \${input.email} an onboarding call?\`,
    timeout: "3d",
  });
  const text = call.approved ? "Welcome! Book your onboarding call." : "Welcome!";
  await ctx.step("send welcome", () => \`\${text} (to \${account.email})\`, { retries: 5 });
  return { account: account.id, call: call.approved };
});
`,
  "src/main.ts": `// Runs the welcome workflow on an embedded SQLite file (.endure/app.db) and approves its
// call, as a person would from the dashboard (npm run dev), the CLI or the HTTP API. Run it
// twice: the second time the run is already in the journal and nothing runs again.
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createEngine } from "endure";
import { sqliteStore } from "endure/sqlite";
import { welcome } from "./workflows.js";

mkdirSync(".endure", { recursive: true });
const engine = await createEngine({ store: sqliteStore(".endure/app.db"), workflows: [welcome] });
try {
  const run = await engine.start(welcome, { email: "ada@example.com" }, { id: "welcome-ada" });
  console.log(run.created ? \`started run \${run.id}\` : \`run \${run.id} exists: reading it\`);
  // Wait (at most 10 s) for the approval to open, then decide it.
  for (let tries = 0; tries < 200 && (await run.info()).status !== "completed"; tries++) {
    const [open] = await engine.approvals({ runId: run.id });
    if (open !== undefined) {
      console.log(\`waiting: \${open.title}\`);
      await engine.approve(run.id, open.name, { by: "you@example.com" });
      break;
    }
    await sleep(50);
  }
  console.log(await run.result());
  console.log((await engine.explain(run.id)).sentence);
} finally {
  await engine.close();
}
`,
  "test/workflows.test.ts": `// Tests the welcome workflow with endure/testing: a real engine on virtual time, so a wait of
// 3 days passes in milliseconds, and a check that a crash at any step changes nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkCrashSafety, createTestEngine } from "endure/testing";
import { welcome } from "../src/workflows.js";

test("offers a call when a person approves", async () => {
  const t = await createTestEngine({ workflows: [welcome] });
  try {
    const run = await t.start(welcome, { email: "ana@example.com" }, { id: "welcome-ana" });
    await t.decide(run.id, "offer a call", true, { by: "maria@example.com" });
    assert.deepEqual(await t.runToEnd(run), { account: "acct-welcome-ana", call: true });
  } finally {
    await t.close();
  }
});

test("goes on without a call when nobody decides within 3 days", async () => {
  const t = await createTestEngine({ workflows: [welcome] });
  try {
    const started = t.clock.now();
    const run = await t.start(welcome, { email: "bo@example.com" }, { id: "welcome-bo" });
    assert.deepEqual(await t.runToEnd(run), { account: "acct-welcome-bo", call: false });
    const days = (t.clock.now() - started) / 86_400_000;
    assert.ok(days >= 3, \`virtual time moved \${days} days\`);
  } finally {
    await t.close();
  }
});

test("gives the same outcome after a crash at any step", async () => {
  const report = await checkCrashSafety(welcome, { email: "cy@example.com" }, { answer: () => true });
  assert.ok(report.ok, report.summary);
});
`,
};

/** Files init writes only when they are absent, and otherwise keeps (and says so): a project
 * of yours has its own. */
export const OPTIONAL_FILES: Readonly<Record<string, string>> = {
  "tsconfig.json": `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["src", "test"]
}
`,
  ".gitignore": "node_modules/\n.endure/\n",
};

/** package.json scripts the starter needs. */
export const STARTER_SCRIPTS: Readonly<Record<string, string>> = {
  start: "tsx src/main.ts",
  test: "node --import tsx --test test/*.test.ts",
  typecheck: "tsc --noEmit",
  dev: "endure dev src/workflows.ts",
};

/** The `test` script `npm init` writes: a placeholder init may replace. */
export const NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1';

/** Development packages the starter runs with (versions: those endure is built with). */
export const STARTER_DEV_PACKAGES = ["tsx", "typescript", "@types/node"] as const;
