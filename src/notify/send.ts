/**
 * Sending notifications. Failures are logged and swallowed: a chat outage must never block a deploy
 * or a promotion. Each request has a short timeout; notifiers are called concurrently.
 * Webhook URLs are credentials (Slack's token is in the path, DingTalk's in the query): no message built
 * here contains a URL beyond its host, an environment variable's value or the signing secret.
 */
import type { NotifierSpec } from "../config/pipeline.js";
import type { Logger } from "../log.js";
import { redactWebhookUrl } from "../log.js";
import { registerSecret, scrubSecrets } from "../util/secrets.js";
import { dingTalkSignedUrl, formatPayload, wants, type NotifyEvent } from "./format.js";

export interface SendResult {
  notifier: string;
  ok: boolean;
  error?: string;
}

/** A failure described in Baton's words (safe to show). */
class NotifyFailure extends Error {}

function endpoint(n: NotifierSpec, env: NodeJS.ProcessEnv): string {
  const raw = n.url ?? (n.urlEnv ? env[n.urlEnv] : undefined);
  if (!raw) throw new NotifyFailure(`environment variable ${n.urlEnv} is not set`);
  registerSecret(raw);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new NotifyFailure(n.urlEnv ? `environment variable ${n.urlEnv} does not hold a URL` : "url is not a URL");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new NotifyFailure(`${n.urlEnv ?? "url"} must be an http(s) URL`);
  return raw;
}

function describe(e: unknown): string {
  if (e instanceof NotifyFailure) return e.message;
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return "timed out";
  const code = (e as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === "string" && /^[A-Z_]+$/.test(code) ? `network error ${code}` : "request failed";
}

export async function notify(notifiers: NotifierSpec[] | undefined, event: NotifyEvent, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<SendResult[]> {
  return Promise.all((notifiers ?? []).filter((n) => wants(n, event)).map(async (n): Promise<SendResult> => {
    let shown = "(no URL)";
    try {
      let url = endpoint(n, env);
      shown = redactWebhookUrl(url);
      if (n.type === "dingtalk" && n.secretEnv) {
        const secret = env[n.secretEnv];
        if (!secret) throw new NotifyFailure(`environment variable ${n.secretEnv} is not set`);
        registerSecret(secret);
        url = dingTalkSignedUrl(url, secret, Date.now());
      }
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(formatPayload(n.type, event)), signal: AbortSignal.timeout(5000) });
      // The body is not read: it is the endpoint's business, and could echo anything.
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new NotifyFailure(`HTTP ${res.status} from ${shown}`);
      log.info({ action: "notify", notifier: n.name, event: event.type, env: event.environment }, "notification sent");
      return { notifier: n.name, ok: true };
    } catch (e) {
      const error = scrubSecrets(describe(e));
      log.warn({ action: "notify", notifier: n.name, event: event.type, endpoint: shown, err: error }, "notification failed (ignored)");
      return { notifier: n.name, ok: false, error };
    }
  }));
}
