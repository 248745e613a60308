// Turns errors of PostgreSQL and of the connection to it into endure's typed store errors,
// with what to do; and tells which failures may be retried on a new connection.
import {
  EndureError,
  SerializationError,
  StoreReadOnlyError,
  StoreTimeoutError,
  StoreUnavailableError,
} from "../../core/errors.js";

/** SQLSTATE codes and Node error codes that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
]);

const CONNECTION_MESSAGES = [
  "Connection terminated",
  "connection timeout",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Client was closed",
];

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the connection failed (server down, restarting, network): a new one may work. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof EndureError) return false;
  const code = codeOf(error);
  // Class 08 is about connections, except a protocol violation: a bug, not an outage.
  if (CONNECTION_CODES.has(code) || (code.startsWith("08") && code !== "08P01")) return true;
  const message = messageOf(error);
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** Maps an error met while `doing` something on the store `where` to a typed store error. */
export function storeError(error: unknown, where: string, doing: string): Error {
  if (error instanceof EndureError) return error;
  const code = codeOf(error);
  const message = messageOf(error);
  const options = { cause: error };
  if (code === "57014" || message.includes("Query read timeout")) {
    return new StoreTimeoutError(
      `the endure store ${where} did not answer in time while ${doing} (${message}); look for ` +
        "long transactions or lock waits on the server, or raise statementTimeoutMs",
      options,
    );
  }
  if (code === "25006" || code === "42501") {
    return new StoreReadOnlyError(
      `the endure store ${where} refused a write while ${doing} (${message}); connect as a role ` +
        "that may write endure's schema, to a primary rather than a read replica",
      options,
    );
  }
  if (code.startsWith("22")) {
    // A data exception: the statement carried a value PostgreSQL cannot keep (a NUL in text,
    // an invalid byte sequence). The value is at fault, not the store: retrying cannot help.
    return new SerializationError(
      `the endure store ${where} refused a value while ${doing} (${message}); the value ` +
        "cannot be stored as it is",
      options,
    );
  }
  if (code.startsWith("28")) {
    return new StoreUnavailableError(
      `cannot log in to the endure store ${where} (${message}); check the user and password in the URL`,
      options,
    );
  }
  if (code === "3D000") {
    return new StoreUnavailableError(
      `the database of the endure store ${where} does not exist (${message}); create it, or fix ` +
        "the database name in the URL",
      options,
    );
  }
  if (isConnectionFailure(error)) {
    return new StoreUnavailableError(
      `cannot reach the endure store ${where} while ${doing} (${message || code}); check that ` +
        "the server runs and accepts connections from here, and the host and port in the URL",
      options,
    );
  }
  return new StoreUnavailableError(
    `the endure store ${where} failed while ${doing}: ${message}`,
    options,
  );
}

/** A URL with its password hidden, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres (unparsable URL)";
  }
}
