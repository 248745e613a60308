// Proves the code keeps its shape: the dependency rules between folders hold, there are no
// import cycles, and files marked deterministic use no clock, randomness, timers or I/O.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(new URL("../../src", import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith(".ts") && !d.name.endsWith(".test.ts") ? [path] : [];
  });
}

const files = sourceFiles(root);
const imports = new Map<string, { local: string[]; external: string[] }>();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)].map(
    (m) => m[1] ?? "",
  );
  const local = specs
    .filter((s) => s.startsWith("."))
    .map((s) => relative(root, resolve(dirname(file), s.replace(/\.js$/, ".ts"))));
  imports.set(relative(root, file), { local, external: specs.filter((s) => !s.startsWith(".")) });
}

describe("architecture", () => {
  it("keeps core free of everything but its own files", () => {
    for (const [file, { local, external }] of imports) {
      if (!file.startsWith("core/")) continue;
      for (const dep of local) expect(dep.startsWith("core/"), `${file} imports ${dep}`).toBe(true);
      for (const dep of external)
        expect(["@standard-schema/spec"], `${file} imports ${dep}`).toContain(dep);
    }
  });

  it("lets stores see the contract but never the worker or the engine", () => {
    for (const [file, { local }] of imports) {
      if (!file.startsWith("store/")) continue;
      for (const dep of local) {
        expect(
          dep.startsWith("worker/") || dep.startsWith("engine/"),
          `${file} imports ${dep}`,
        ).toBe(false);
        if (file.startsWith("store/sqlite/"))
          expect(dep.startsWith("store/postgres/"), `${file} imports ${dep}`).toBe(false);
        if (file.startsWith("store/postgres/"))
          expect(dep.startsWith("store/sqlite/"), `${file} imports ${dep}`).toBe(false);
      }
    }
  });

  it("picks concrete stores only in composition roots (the CLI, the test engine) and in the stores", () => {
    for (const [file, { local }] of imports) {
      if (file.startsWith("cli/") || file.startsWith("store/")) continue;
      // createTestEngine is the composition root of a user's test: it picks a temporary SQLite file.
      if (file === "testing/test-engine.ts") continue;
      for (const dep of local) {
        const concrete = dep.startsWith("store/sqlite/") || dep.startsWith("store/postgres/");
        expect(concrete, `${file} imports ${dep}`).toBe(false);
      }
    }
  });

  it("lets the worker see core and the store contract, never a concrete store", () => {
    for (const [file, { local, external }] of imports) {
      if (!file.startsWith("worker/")) continue;
      for (const dep of local) {
        const ok = dep.startsWith("core/") || dep.startsWith("worker/") || dep === "store/store.ts";
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
      for (const dep of external)
        expect(dep.startsWith("node:") || dep === "croner", `${file} imports ${dep}`).toBe(true);
    }
  });

  it("builds the AI integrations on core and the engine's public face, never on a store or the worker", () => {
    const integrations = ["ai/", "ai-sdk/", "mcp/"];
    let seen = 0;
    for (const [file, { local }] of imports) {
      if (!integrations.some((dir) => file.startsWith(dir))) continue;
      seen++;
      for (const dep of local) {
        const ok =
          dep.startsWith("core/") ||
          dep.startsWith("engine/") ||
          dep === "index.ts" ||
          integrations.some((dir) => dep.startsWith(dir));
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(10);
  });

  it("builds the server on core and the engine's public face, never on a store or the worker", () => {
    let seen = 0;
    for (const [file, { local, external }] of imports) {
      if (!file.startsWith("server/")) continue;
      seen++;
      for (const dep of local) {
        const ok =
          dep.startsWith("core/") || dep.startsWith("engine/") || dep.startsWith("server/");
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
      for (const dep of external) {
        const ok =
          dep.startsWith("node:") ||
          dep === "zod" ||
          dep.startsWith("hono") ||
          dep.startsWith("@hono/") ||
          // The A2A endpoints alone speak the protocol through the official SDK.
          (file.startsWith("server/a2a/") && dep.startsWith("@a2a-js/sdk"));
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(8);
  });

  it("keeps the client free of the server, the engine and Node: it runs in browsers", () => {
    let seen = 0;
    for (const [file, { local, external }] of imports) {
      if (!file.startsWith("client/")) continue;
      seen++;
      for (const dep of local) {
        const ok = dep.startsWith("client/") || dep === "core/errors.ts" || dep === "core/types.ts";
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
      expect(external, `${file} imports packages`).toEqual([]);
      const code = readFileSync(join(root, file), "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("//") && !line.trim().startsWith("*"))
        .join("\n");
      expect(/\bprocess\.|\bBuffer\b|require\(/.test(code), `${file} uses Node globals`).toBe(
        false,
      );
    }
    expect(seen).toBeGreaterThan(3);
  });

  it("keeps observability on core, the worker's observer port and the store contract", () => {
    let seen = 0;
    for (const [file, { local, external }] of imports) {
      if (!file.startsWith("observe/")) continue;
      seen++;
      for (const dep of local) {
        const ok =
          dep.startsWith("core/") ||
          dep.startsWith("observe/") ||
          dep === "worker/observer.ts" ||
          dep === "worker/run-host.ts" ||
          dep === "store/store.ts";
        expect(ok, `${file} imports ${dep}`).toBe(true);
      }
      for (const dep of external)
        expect(
          dep.startsWith("node:") || dep === "pino" || dep === "@opentelemetry/api",
          `${file} imports ${dep}`,
        ).toBe(true);
    }
    expect(seen).toBeGreaterThan(4);
  });

  it("has no import cycles", () => {
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === "done") return;
      expect(state.get(file), `cycle: ${[...path, file].join(" -> ")}`).not.toBe("visiting");
      state.set(file, "visiting");
      for (const dep of imports.get(file)?.local ?? []) visit(dep, [...path, file]);
      state.set(file, "done");
    };
    for (const file of imports.keys()) visit(file, []);
    expect(state.size).toBeGreaterThan(20);
  });

  it("keeps files marked deterministic free of clocks, randomness, timers, process and I/O", () => {
    const banned = [
      /\bDate\.now\(/,
      /\bnew Date\(\)/,
      /\bMath\.random\(/,
      /\bsetTimeout\(/,
      /\bsetInterval\(/,
      /\bsetImmediate\(/,
      /\bprocess\./,
      /from "node:/,
      /\bfetch\(/,
      /\bperformance\.now\(/,
    ];
    const deterministic = files.filter((f) =>
      readFileSync(f, "utf8").startsWith("// Deterministic:"),
    );
    expect(deterministic.length).toBeGreaterThan(10);
    for (const file of deterministic) {
      const code = readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("//") && !line.trim().startsWith("*"))
        .join("\n");
      for (const pattern of banned)
        expect(pattern.test(code), `${relative(root, file)} uses ${pattern}`).toBe(false);
    }
  });
});

describe("dashboard architecture", () => {
  const dashboard = resolve(root, "../dashboard/src");
  const dashboardFiles = readdirSync(dashboard, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => join(dashboard, f));

  it("talks to the server through endure/client only, and loads nothing from the network", () => {
    expect(dashboardFiles.length).toBeGreaterThan(5);
    for (const file of dashboardFiles) {
      const text = readFileSync(file, "utf8");
      const name = relative(dashboard, file);
      const specs = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)].map(
        (m) => m[1] ?? "",
      );
      for (const spec of specs) {
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          expect(target.startsWith(dashboard), `${name} imports ${spec}`).toBe(true);
        } else {
          expect(["endure/client", "preact", "preact/hooks"], `${name} imports ${spec}`).toContain(
            spec,
          );
        }
      }
      for (const banned of [
        /\bfetch\(/,
        /\bnew EventSource\(/,
        /\bXMLHttpRequest\b/,
        /https?:\/\//,
      ])
        expect(banned.test(text), `${name} uses ${banned}`).toBe(false);
    }
  });
});

describe("error documentation", () => {
  it("has a page for every error code endure raises", () => {
    const errors = ["core/errors.ts", "core/agent-errors.ts"]
      .map((f) => readFileSync(join(root, f), "utf8"))
      .join("\n");
    const server = files
      .filter((f) => relative(root, f).startsWith("server/"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const codes = new Set(
      [
        ...errors.matchAll(/define\("([a-z0-9_]+)"/g),
        ...errors.matchAll(/super\("([a-z0-9_]+)"/g),
        ...errors.matchAll(/"(non_determinism)"/g),
        ...server.matchAll(/RequestError\(\s*"([a-z_]+)"/g),
        ...server.matchAll(/"(internal_error)"/g),
      ].map((m) => m[1] ?? ""),
    );
    expect(codes.size).toBeGreaterThan(20);
    const pages = new Set(
      readdirSync(resolve(root, "../docs/errors")).map((f) => f.replace(/\.md$/, "")),
    );
    for (const code of codes) expect(pages.has(code), `docs/errors/${code}.md`).toBe(true);
  });
});
