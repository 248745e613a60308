// Proves every store meets the Store contract: the same conformance cases run against a real
// SQLite file, an in-memory SQLite database (":memory:") and a real PostgreSQL database, each
// case on a new file or a new database; and again through the wrappers an engine puts around
// its store (sealing with a codec, hash chaining), which must change nothing that a caller of
// the store sees.
import { join } from "node:path";
import { describe, it } from "vitest";
import { sqliteStore } from "endure/sqlite";
import { chainedStore } from "../../src/protect/chained-store.js";
import { aesGcmCodec } from "../../src/protect/codec.js";
import { sealedStore } from "../../src/protect/sealed-store.js";
import { conformanceCases } from "../../src/store/conformance.js";
import type { Store } from "../../src/store/store.js";
import { onCleanup, tempDir } from "../helpers.js";
import { openStore } from "../support/postgres.js";

const stores: Array<[string, () => Promise<Store>]> = [
  [
    "SQLite",
    async () => {
      const store = sqliteStore(join(tempDir(), "conformance.db"));
      await store.open();
      onCleanup(() => store.close());
      return store;
    },
  ],
  [
    "SQLite in memory",
    async () => {
      const store = sqliteStore(":memory:");
      await store.open();
      onCleanup(() => store.close());
      return store;
    },
  ],
  ["PostgreSQL", () => openStore()],
];

const codec = aesGcmCodec({ keys: { k1: Buffer.alloc(32, 7) }, current: "k1" });
stores.push(
  ["SQLite sealed", async () => sealedStore(await (stores[0] as (typeof stores)[0])[1](), codec)],
  ["PostgreSQL sealed", async () => sealedStore(await openStore(), codec)],
  [
    "SQLite sealed and hash-chained",
    async () =>
      sealedStore(chainedStore(await (stores[0] as (typeof stores)[0])[1](), true), codec),
  ],
  ["PostgreSQL hash-chained", async () => chainedStore(await openStore(), true)],
);

for (const [name, open] of stores) {
  describe(`${name} store conformance`, () => {
    for (const c of conformanceCases) {
      it(c.name, async () => c.run(await open()));
    }
  });
}
