// Proves the SQLite store meets the Store contract: every conformance case, each on a new file.
import { join } from "node:path";
import { describe, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import { conformanceCases } from "../../src/store/conformance.js";
import { onCleanup, tempDir } from "../helpers.js";

describe("SQLite store conformance", () => {
  for (const c of conformanceCases) {
    it(c.name, async () => {
      const store = sqliteStore(join(tempDir(), "conformance.db"));
      await store.open();
      onCleanup(() => store.close());
      await c.run(store);
    });
  }
});
