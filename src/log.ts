/**
 * pino JSON logs with stable fields (`env`, `revision`, `object`, `action`).
 * Tokens, passwords and anything that looks like Secret data are redacted before they are written.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const REDACT_PATHS = [
  "token",
  "password",
  "secret",
  "authorization",
  "headers.authorization",
  "*.token",
  "*.password",
  "*.authorization",
  "*.data",
  "*.stringData",
  "data",
  "stringData",
];

export function createLogger(level: LevelWithSilent = "info", destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { component: "baton" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing, for library code called from tests and the CLI. */
export const silentLogger: Logger = pino({ level: "silent" });

/** Removes credentials from a URL before it appears in logs, errors or status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? "redacted" : "";
      u.password = "";
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//redacted@");
  }
}
