// Test setup for the whole run: PostgreSQL for the tests that need one. DATABASE_URL when
// set (a server the caller owns, where the tests may create databases), otherwise a
// throwaway server started here and removed after the run.
import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a database on a server where tests may create and drop databases. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL;
  if (given !== undefined && given !== "") {
    project.provide("postgresUrl", given);
    return async () => {};
  }
  const server = await startPostgres();
  project.provide("postgresUrl", server.url);
  return () => server.stop();
}
