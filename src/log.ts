/**
 * pino JSON logs with stable fields (`env`, `revision`, `object`, `action`).
 * Tokens, passwords and anything that looks like Secret data are redacted before they are written.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";
import { scrubSecrets } from "./util/secrets.js";

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
    // Every line, whatever field a value ended up in, loses registered secret values.
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing, for library code called from tests and the CLI. */
export const silentLogger: Logger = pino({ level: "silent" });

/**
 * A URL as it may appear in logs, errors and status: no user info, no query string (DingTalk's
 * access_token, signed URLs). The path stays: it names the repository of a git URL.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "redacted";
      u.password = "";
    }
    if (u.search) u.search = "?redacted";
    u.hash = "";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * A notification endpoint as it may appear anywhere: its origin only. Webhook URLs are credentials
 * (Slack's token is in the path, DingTalk's in the query), so nothing after the host is shown.
 */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname !== "/" || u.search ? "/…" : ""}`;
  } catch {
    return "(unparseable URL)";
  }
}
