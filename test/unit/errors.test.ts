// Proves endure's errors are one branded family: a foreign error with a string `code` is not
// taken for one, every class (the agent layer's too) round-trips through the journal as
// itself, and every error turns into plain data.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  EndureError,
  errorRecord,
  isEndureError,
  LeaseLostError,
  NonDeterminismError,
  RetryAfterError,
  RunNotFoundError,
  StoreUnavailableError,
} from "endure";
import {
  BudgetExceededError,
  EmptyReplyError,
  MaxTurnsExceededError,
  ModelResponseError,
  ModelTimeoutError,
  ModelUnavailableError,
} from "endure/ai";
import { decodeValue, encodeValue } from "../../src/core/serialize.js";

const roundTrip = (v: unknown) => decodeValue(encodeValue(v, "error"));

describe("the error family", () => {
  it("does not take a Node ENOENT or a PostgreSQL 23505 for an endure error", () => {
    let enoent: unknown;
    try {
      readFileSync("/no/such/file/anywhere");
    } catch (e) {
      enoent = e;
    }
    expect((enoent as { code?: string }).code).toBe("ENOENT");
    expect(isEndureError(enoent)).toBe(false);
    const pgError = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
      severity: "ERROR",
    });
    expect(isEndureError(pgError)).toBe(false);
    // A foreign error that even borrows one of endure's codes is still foreign.
    const impostor = Object.assign(new Error("no such run"), { code: "run_not_found" });
    expect(isEndureError(impostor)).toBe(false);
    expect(isEndureError(impostor, "run_not_found")).toBe(false);
    expect(isEndureError({ code: "run_not_found", message: "plain object" })).toBe(false);
  });

  it("recognizes its own errors, with and without a code to match", () => {
    const e = new RunNotFoundError("no run r1");
    expect(isEndureError(e)).toBe(true);
    expect(isEndureError(e, "run_not_found")).toBe(true);
    expect(isEndureError(e, "lease_lost")).toBe(false);
    expect(isEndureError(new BudgetExceededError("over"), "budget_exceeded")).toBe(true);
  });

  it("restores every class through the journal as its own class, agent errors included", () => {
    const errors: EndureError[] = [
      new RunNotFoundError("r"),
      new LeaseLostError("l"),
      new RetryAfterError("30s"),
      new NonDeterminismError({ runId: "r", position: 3, recorded: "a", requested: "b" }),
      new BudgetExceededError("b"),
      new MaxTurnsExceededError("m"),
      new EmptyReplyError("e"),
      new ModelTimeoutError("t"),
      new ModelUnavailableError("u", 503),
      new ModelResponseError("x"),
    ];
    for (const error of errors) {
      const back = roundTrip(error) as EndureError;
      expect(back.constructor, error.name).toBe(error.constructor);
      expect(back).toBeInstanceOf(error.constructor);
      expect(back.code).toBe(error.code);
      expect(back.message).toBe(error.message);
      expect(isEndureError(back, error.code)).toBe(true);
    }
    expect((roundTrip(new ModelUnavailableError("u", 503)) as ModelUnavailableError).status).toBe(
      503,
    );
  });

  it("keeps a foreign error foreign after the journal, and an unknown endure class endure's", () => {
    const pgError = Object.assign(new Error("dup"), { code: "23505" });
    const back = roundTrip(pgError) as Error & { code?: string };
    expect(back.code).toBe("23505");
    expect(isEndureError(back)).toBe(false);
    const future = new StoreUnavailableError("down");
    future.name = "StoreOnFireError";
    const restored = roundTrip(future);
    expect(restored).toBeInstanceOf(EndureError);
    expect(isEndureError(restored, "store_unavailable")).toBe(true);
  });

  it("serializes every error to plain data", () => {
    const error = new StoreUnavailableError("store down", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", port: 5432 }),
    });
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toMatchObject({
      name: "StoreUnavailableError",
      code: "store_unavailable",
      message: "store down",
      endure: true,
      cause: {
        name: "Error",
        code: "ECONNREFUSED",
        message: "connect ECONNREFUSED",
        props: { port: 5432 },
      },
    });
    expect(typeof json["stack"]).toBe("string");
    const odd = errorRecord({ message: "thrown object", when: new Date(0), big: 1n });
    expect(odd).toMatchObject({ name: "Error", message: "thrown object" });
    expect(odd.props).toEqual({ when: "1970-01-01T00:00:00.000Z", big: "1" });
    expect(errorRecord("a string")).toMatchObject({ name: "Error", message: "a string" });
    expect(JSON.parse(JSON.stringify(errorRecord(error)))).toEqual(errorRecord(error));
  });
});
