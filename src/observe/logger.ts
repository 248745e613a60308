// Structured logs: endure writes JSON lines through pino, or through the user's own
// pino-compatible logger. Every call is guarded: a logger that throws loses its line, never
// a run.
import { pino } from "pino";
import { errorRecord } from "../core/errors.js";

/** Log levels endure uses, from the most verbose. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * A pino-compatible logger: pino itself, or anything with its `(fields, message)` methods
 * and `child(bindings)`.
 */
export interface StructuredLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  child(bindings: Record<string, unknown>): StructuredLogger;
}

/** One level's method, as pino has it: fields and a message, or a message alone. */
export interface LogMethod {
  (fields: object, message: string): void;
  (message: string): void;
}

/** The logger of endure 0.1: warnings as plain strings. Still accepted. */
export interface WarnLogger {
  warn(message: string): void;
}

/**
 * What the engine's `logger` option takes: a pino logger (anything with pino's
 * `(fields, message)` methods and `child`), or the 0.1 form `{ warn(message) }`.
 */
export interface Logger extends WarnLogger {
  debug?: LogMethod;
  info?: LogMethod;
  error?: LogMethod;
  child?(bindings: Record<string, unknown>): StructuredLogger;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** The least severe level written. Default `"warn"` (library use); `endure worker` uses `"info"`. */
  level?: LogLevel | "silent";
  /** A file descriptor to write JSON lines to. Default 2 (stderr). */
  fd?: number;
}

/**
 * endure's default logger: pino writing one JSON object per line, synchronously (a crash
 * loses no line), with `name: "endure"`.
 *
 * @example
 * ```ts
 * const engine = await createEngine({ store, workflows, logger: createLogger({ level: "info" }) });
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): StructuredLogger {
  return pino(
    { name: "endure", level: options.level ?? "warn", base: { pid: process.pid } },
    pino.destination({ fd: options.fd ?? 2, sync: true }),
  );
}

/** True when `logger` has pino's structured methods. */
function isStructured(logger: Logger): boolean {
  const l = logger as unknown as Partial<StructuredLogger>;
  return (
    typeof l.info === "function" && typeof l.error === "function" && typeof l.child === "function"
  );
}

/**
 * The logger endure writes to: the user's (structured, or warnings-only), guarded so that a
 * throw is swallowed. A warnings-only logger gets warnings and errors as plain strings.
 */
export function toStructuredLogger(logger: Logger): StructuredLogger {
  if (isStructured(logger)) return guarded(logger as unknown as StructuredLogger);
  const warnOnly = logger;
  const asText = (fields: object | string, message?: string): void => {
    try {
      warnOnly.warn(typeof fields === "string" ? fields : withError(fields, message ?? ""));
    } catch {
      // A logger that throws loses its line, never a run.
    }
  };
  const noop = (): void => {};
  const plain: StructuredLogger = {
    debug: noop,
    info: noop,
    warn: asText,
    error: asText,
    child: () => plain,
  };
  return plain;
}

function withError(fields: object, message: string): string {
  const err = (fields as { err?: unknown }).err;
  return err === undefined ? message : `${message}: ${errorRecord(err).message}`;
}

function guarded(logger: StructuredLogger): StructuredLogger {
  const call =
    (level: LogLevel) =>
    (fields: object | string, message?: string): void => {
      try {
        if (typeof fields === "string") logger[level](fields);
        else logger[level](fields, message ?? "");
      } catch {
        // A logger that throws loses its line, never a run.
      }
    };
  return {
    debug: call("debug"),
    info: call("info"),
    warn: call("warn"),
    error: call("error"),
    child: (bindings) => {
      try {
        return guarded(logger.child(bindings));
      } catch {
        return guarded(logger);
      }
    },
  };
}
