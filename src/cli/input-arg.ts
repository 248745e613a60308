// Reads a JSON value given on the command line: inline JSON, or @file to read it from a file.
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../core/errors.js";

/** The value of `text`: JSON, or `@path` for a file holding JSON; undefined when absent. */
export function jsonArgument(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (e) {
      throw new InvalidArgumentError(
        `cannot read ${what} from ${text.slice(1)}: ${(e as Error).message}`,
      );
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (e) {
    throw new InvalidArgumentError(
      `${what} must be JSON (or @file with JSON): ${(e as Error).message}`,
    );
  }
}
